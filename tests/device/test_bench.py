"""`edgelift bench`: real interpreters timed; checks structure, counts and ordering, never timings."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from edgelift.cli import main
from edgelift.device.checking.bench import SCHEMA, bench, latency_stats
from edgelift.errors import DataError, InvalidArgumentError

CONFIG_KEYS = {
    "delegate", "partition", "partition_detail", "load_ms", "first_inference_ms", "latency_ms", "throughput_per_s",
    "batch", "runs", "peak_rss_mb", "rss_load_delta_mb", "ratio_to_first", "per_op", "samples_ms",
}
TOP_KEYS = {
    "schema", "model", "model_size_bytes", "runtime", "host", "threads", "warmup", "mode", "inputs", "interleaved",
    "wall_s", "per_op", "per_op_note", "configs", "failed",
}
LATENCY_KEYS = {"p50", "p90", "p99", "min", "max", "mean", "std"}


def test_two_delegates_interleaved_with_ordered_percentiles(resnet_int8):
    res = bench(resnet_int8, delegates="xnnpack,builtin", runs=13, warmup=2)
    d = res.as_dict()
    assert set(d) == TOP_KEYS and d["schema"] == SCHEMA
    assert d["interleaved"] and d["mode"] == {"runs": 13} and d["inputs"] == "random"
    assert [c["delegate"] for c in d["configs"]] == ["xnnpack", "builtin"]
    for c in d["configs"]:
        assert set(c) == CONFIG_KEYS and set(c["latency_ms"]) == LATENCY_KEYS
        lat = c["latency_ms"]
        assert c["runs"] == 13 and len(c["samples_ms"]) == 13
        assert 0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
        assert lat["min"] <= lat["mean"] <= lat["max"] and lat["std"] >= 0
        assert c["throughput_per_s"] == pytest.approx(1e3 * 13 / sum(c["samples_ms"]))
        assert c["peak_rss_mb"] > 10 and c["load_ms"] > 0 and c["first_inference_ms"] > 0
    first, second = d["configs"]
    assert first["ratio_to_first"]["p50"] == 1.0
    assert second["ratio_to_first"]["p50"] == pytest.approx(second["latency_ms"]["p50"] / first["latency_ms"]["p50"])
    assert "nodes delegated in 1 partition" in first["partition"] and second["partition"].startswith("0 of")
    assert d["per_op"] is False and first["per_op"] is None
    text = res.format()
    assert re.search(r"^xnnpack .* 13 +1\.00$", text, re.M) and "bench --per-op measures each op" in text


def test_per_op_timing_covers_every_op(resnet_int8):
    d = bench(resnet_int8, delegates="builtin,xnnpack", runs=5, warmup=1, per_op=True).as_dict()
    assert d["per_op"] is True and d["per_op_note"].startswith("isolated:")
    for c in d["configs"]:
        ops = c["per_op"]
        assert [o["node"] for o in ops] == list(range(c["partition_detail"]["total_nodes"]))
        assert [o["op"] for o in ops].count("CONV_2D") == 6 and all(o["median_us"] > 0 for o in ops)
        assert sum(o["share"] for o in ops) == pytest.approx(1.0)
    assert all(o["delegated"] for o in d["configs"][1]["per_op"])  # XNNPACK takes each op on its own too


def test_latency_stats_match_numpy():
    s = [0.003, 0.001, 0.002, 0.010]
    st = latency_stats(s)
    assert st["p50"] == pytest.approx(np.percentile(np.array(s) * 1e3, 50))
    assert st["max"] == pytest.approx(10.0) and st["min"] == pytest.approx(1.0)


def test_seconds_mode_gives_every_delegate_the_same_count(conv_int8):
    res = bench(conv_int8, delegates=["builtin", "xnnpack"], seconds=0.2, warmup=0)
    runs = [c["runs"] for c in res.as_dict()["configs"]]
    assert runs[0] == runs[1] >= 1
    assert res.as_dict()["mode"] == {"seconds": 0.2}


def test_argument_errors(conv_int8):
    with pytest.raises(InvalidArgumentError, match="not both"):
        bench(conv_int8, runs=3, seconds=1)
    with pytest.raises(InvalidArgumentError, match="more than once"):
        bench(conv_int8, delegates="builtin,builtin", runs=1)
    with pytest.raises(InvalidArgumentError, match="runs must be"):
        bench(conv_int8, runs=0)


def test_input_file_is_used_and_checked(conv_int8, tmp_path):
    good = tmp_path / "good.npy"
    np.save(good, np.random.default_rng(0).uniform(-1, 1, (4, 9, 9, 3)).astype(np.float32))
    res = bench(conv_int8, delegates="builtin", runs=2, inputs=str(good))
    assert res.as_dict()["inputs"] == str(good)
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((4, 7, 7, 3), np.float32))
    with pytest.raises(DataError, match=r"have shape \(7, 7, 3\); the model expects \(9, 9, 3\)"):
        bench(conv_int8, runs=2, inputs=str(bad))


def test_cli_json_and_report(conv_int8, tmp_path, capsys):
    model = tmp_path / "conv.tflite"
    model.write_bytes(conv_int8)
    report = tmp_path / "bench.html"
    code = main(["bench", str(model), "--delegate", "builtin,xnnpack", "--runs", "5", "--warmup", "1", "--json",
                 "--report", str(report)])
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert d["schema"] == SCHEMA and [c["runs"] for c in d["configs"]] == [5, 5]
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("data:image/png;base64,") >= 2
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_cli_unknown_delegate_exit_code(conv_int8, tmp_path, capsys):
    model = tmp_path / "conv.tflite"
    model.write_bytes(conv_int8)
    assert main(["bench", str(model), "--delegate", "xnnpack,gpu0"]) == 3
    err = capsys.readouterr().err
    assert "error: unknown delegate 'gpu0'; known: builtin, xnnpack, neon" in err


def test_three_delegates_including_neon(conv_int8):
    from tests.device.test_delegates import _neon_or_skip

    _neon_or_skip()
    d = bench(conv_int8, delegates="xnnpack,builtin,neon", runs=4, warmup=1).as_dict()
    assert [c["delegate"] for c in d["configs"]] == ["xnnpack", "builtin", "neon"]
    assert all(c["runs"] == 4 for c in d["configs"]) and "nodes delegated in" in d["configs"][2]["partition"]


def test_a_delegate_that_fails_to_load_is_reported_in_its_row(conv_int8, tmp_path, capsys):
    model = tmp_path / "conv.tflite"
    model.write_bytes(conv_int8)
    broken = tmp_path / "broken_delegate.so"
    broken.write_text("not a shared library\n")
    d = bench(model, delegates=f"builtin,{broken},xnnpack", runs=3, warmup=0).as_dict()
    assert [c["delegate"] for c in d["configs"]] == ["builtin", "xnnpack"]
    assert all(c["runs"] == 3 for c in d["configs"])
    assert [f["delegate"] for f in d["failed"]] == [str(broken)] and str(broken) in d["failed"][0]["error"]
    # the CLI prints the measured rows and the failed one, then exits with the delegate error code
    code = main(["bench", str(model), "--delegate", f"builtin,{broken}", "--runs", "2", "--warmup", "0"])
    out, err = capsys.readouterr()
    assert code == 3, err
    assert re.search(r"^builtin\s+\d", out, re.M) and re.search(r"^\S+broken_delegate.so FAILED: ", out, re.M), out
    assert "1 of 2 delegates could not load the model" in err
