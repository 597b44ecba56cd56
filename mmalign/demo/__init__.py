"""The built-in demo: MIA-DPO's effect in miniature on a CPU."""
