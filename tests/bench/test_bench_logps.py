"""`mmalign bench logps`: both variants run in their own processes and agree; the table names the saving."""

from mmalign.bench.logps import format_table, run_logps_bench


def test_logps_bench_variants_agree_and_report_peaks():
    result = run_logps_bench(positions=1024, hidden=16, vocab=20_000)
    assert set(result["peak_mib"]) == {"full_log_softmax", "chunked_logsumexp"}
    assert max(result["max_abs_diff"].values()) < 1e-4
    # 1024 x 20,000 float32 logits = 78 MiB: the full log-softmax holds about four such blocks at once,
    # the chunked step the logits (gradient written into them) and 128-row chunks.
    assert result["config"]["logits_mib"] == 78.1
    assert result["peak_mib"]["full_log_softmax"] > 3 * 78
    assert result["peak_mib"]["chunked_logsumexp"] < 0.7 * result["peak_mib"]["full_log_softmax"]
    assert "lower" in format_table(result)
