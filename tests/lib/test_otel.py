"""OpenTelemetry GenAI spans into llm_calls, with spans made by the official SDK (a real producer) and written the
ways teams export them: OTLP JSON as protobuf's JSON mapping (base64 ids), as a collector's file exporter writes it
(hex ids, numeric enums, one export per line), and the SDK's own span JSON."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import polars as pl
import pytest
from google.protobuf.json_format import MessageToDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from driftdesk.cli import main
from driftdesk.cli.otel import import_otlp
from driftdesk.contract import load_table
from driftdesk.errors import DriftdeskError, InputFileError
from driftdesk.llm import summarize_calls
from driftdesk.otel import is_otlp_file, read_otlp


class Producer:
    """A tracer provider with an in-memory exporter, and the finished spans written in each export format."""

    def __init__(self, service: str = "support_chat"):
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(resource=Resource.create({"service.name": service}))
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("driftdesk-tests")

    def spans(self):
        return self.exporter.get_finished_spans()

    def write_protobuf_json(self, path: Path) -> Path:
        path.write_text(json.dumps(MessageToDict(encode_spans(self.spans()))))
        return path

    def write_collector_lines(self, path: Path) -> Path:
        """One export per line, hex ids and numeric enums, as the collector's file exporter writes OTLP JSON."""
        lines = []
        for span in self.spans():
            doc = MessageToDict(encode_spans([span]))
            for rs in doc["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    for s in ss["spans"]:
                        for key in ("traceId", "spanId", "parentSpanId"):
                            if key in s:
                                s[key] = base64.b64decode(s[key]).hex()
                        s["kind"] = 1
                        if "status" in s and "code" in s["status"]:
                            s["status"]["code"] = {"STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}[s["status"]["code"]]
            lines.append(json.dumps(doc))
        path.write_text("\n".join(lines) + "\n")
        return path

    def write_sdk_json(self, path: Path) -> Path:
        """The SDK's ConsoleSpanExporter format: pretty-printed span.to_json() objects one after another."""
        path.write_text("".join(s.to_json() + "\n" for s in self.spans()))
        return path


def agent_request(tracer, *, prompt="v3", index="idx-2026-10", refuse=False, fail=False):
    """An agent request: a retrieval, two model calls (one streams a first token), a tool call."""
    with tracer.start_as_current_span("invoke_agent", attributes={
            "gen_ai.operation.name": "invoke_agent", "driftdesk.prompt_version": prompt,
            "gen_ai.usage.input_tokens": 9999}) as agent:  # a total the children already carry: not counted twice
        with tracer.start_as_current_span("retrieval", attributes={"gen_ai.operation.name": "retrieval",
                                                                    "gen_ai.data_source.id": index}):
            pass
        with tracer.start_as_current_span("chat m1", attributes={
                "gen_ai.operation.name": "chat", "gen_ai.request.model": "m1", "gen_ai.response.model": "m1-0613",
                "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 20,
                "gen_ai.response.finish_reasons": ["tool_calls"], "driftdesk.cost_usd": 0.001}) as chat:
            chat.add_event("gen_ai.first_token")
        with (tracer.start_as_current_span("execute_tool search", attributes={"gen_ai.operation.name": "execute_tool"}),
              tracer.start_as_current_span("GET /search")):  # no GenAI attributes: still part of the request
            pass
        with tracer.start_as_current_span("chat m1", attributes={
                "gen_ai.operation.name": "chat", "gen_ai.request.model": "m1", "gen_ai.usage.input_tokens": 300,
                "gen_ai.usage.output_tokens": 50, "driftdesk.cost_usd": 0.002,
                "gen_ai.response.finish_reasons": ["content_filter" if refuse else "stop"]}):
            pass
        if fail:
            agent.set_status(Status(StatusCode.ERROR, "upstream timeout"))
    return agent


@pytest.fixture
def producer():
    return Producer()


def write_all(producer: Producer, folder: Path) -> list[Path]:
    return [producer.write_protobuf_json(folder / "export.json"),
            producer.write_collector_lines(folder / "collector.jsonl"),
            producer.write_sdk_json(folder / "sdk.json")]


def test_an_agent_request_rolls_up_into_one_call(producer, tmp_path):
    agent_request(producer.tracer, refuse=True)
    spans = {s.name: s for s in producer.spans()}
    root, first_chat = spans["invoke_agent"], next(s for s in producer.spans() if s.name == "chat m1")
    frames = [read_otlp(p)[0] for p in write_all(producer, tmp_path)]
    for frame in frames:
        assert frame.height == 1
        call = frame.row(0, named=True)
        assert (call["model"], call["prompt_version"], call["index_version"], call["feature"]) == (
            "m1-0613", "v3", "idx-2026-10", "support_chat")
        assert (call["input_tokens"], call["output_tokens"]) == (400, 70)
        assert call["cost"] == pytest.approx(0.003)
        assert call["refusal"] is True and call["error"] is False and call["spans"] == 6
        assert call["latency_ms"] == pytest.approx((root.end_time - root.start_time) / 1e6, abs=2e-3)
        ttft = (first_chat.events[0].timestamp - root.start_time) / 1e6
        assert call["ttft_ms"] == pytest.approx(ttft, abs=2e-3)
    assert frames[0].drop("latency_ms", "ttft_ms").equals(frames[1].drop("latency_ms", "ttft_ms"))
    assert frames[0].select("ts", "trace_id", "span_id").equals(frames[1].select("ts", "trace_id", "span_id"))


def test_calls_under_a_plain_root_are_separate_and_errors_are_the_call_span_s(producer, tmp_path):
    with producer.tracer.start_as_current_span("POST /generate"):  # an HTTP server span, no GenAI attributes
        for model in ("m1", "m2"):
            with producer.tracer.start_as_current_span(f"chat {model}", attributes={
                    "gen_ai.operation.name": "chat", "gen_ai.request.model": model,
                    "gen_ai.response.time_to_first_chunk": 0.25}) as span:
                if model == "m2":
                    span.set_status(Status(StatusCode.ERROR))
    agent_request(producer.tracer, fail=False)
    frame, report = read_otlp(producer.write_collector_lines(tmp_path / "c.jsonl"))
    by_model = {r["model"]: r for r in frame.iter_rows(named=True)}
    assert set(by_model) == {"m1", "m2", "m1-0613"} and report.calls == 3
    assert (by_model["m1"]["error"], by_model["m2"]["error"]) == (False, True)
    assert by_model["m1"]["ttft_ms"] == pytest.approx(250.0)
    assert by_model["m1"]["refusal"] is None  # no finish reasons reported: unknown, not "no"


def test_missing_and_invalid_attributes_are_counted_and_the_rest_imported(producer, tmp_path):
    tracer = producer.tracer
    for _ in range(3):
        with tracer.start_as_current_span("chat", attributes={"gen_ai.operation.name": "chat"}):  # no model
            pass
    with tracer.start_as_current_span("chat", attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": "m",
                                                           "gen_ai.usage.output_tokens": -5,
                                                           "gen_ai.usage.input_tokens": 10}):
        pass
    with tracer.start_as_current_span("chat", attributes={"gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 7,
                                                           "gen_ai.usage.output_tokens": 3}):
        pass
    frame, report = read_otlp(producer.write_protobuf_json(tmp_path / "e.json"))
    assert report.calls == 2 and report.skipped == {"gen_ai.request.model": 3}
    assert report.invalid == {"gen_ai.usage.output_tokens": 1}
    assert frame["output_tokens"].to_list() == [None, 3.0] and frame["input_tokens"].to_list() == [10.0, 7.0]
    assert report.missing["gen_ai.usage.output_tokens"] == 1 and report.missing["driftdesk.prompt_version"] == 2
    assert "3 call(s) skipped: no gen_ai.request.model" in report.sentences()


def test_configured_attributes_give_feature_prompt_and_cost(producer, tmp_path):
    with producer.tracer.start_as_current_span("chat", attributes={
            "gen_ai.request.model": "m", "app.feature": "ad_copy", "app.prompt": "p7", "llm.cost": 0.5,
            "app.valid": "false", "app.release": "prompt-p7"}):
        pass
    path = producer.write_sdk_json(tmp_path / "s.json")
    frame, _ = read_otlp(path, attributes={"feature": "app.feature", "prompt_version": ["nope", "app.prompt"],
                                           "cost": "llm.cost", "validator_ok": "app.valid", "release_id": "app.release"})
    row = frame.row(0, named=True)
    assert (row["feature"], row["prompt_version"], row["cost"], row["validator_ok"], row["release_id"]) == (
        "ad_copy", "p7", 0.5, False, "prompt-p7")
    with pytest.raises(DriftdeskError, match="unknown role 'colour'"):
        read_otlp(path, attributes={"colour": "x"})


def test_output_text_from_output_messages(producer, tmp_path):
    messages = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "Buy the tent today"}]}])
    with producer.tracer.start_as_current_span("chat", attributes={"gen_ai.request.model": "m",
                                                                    "gen_ai.output.messages": messages}):
        pass
    frame, _ = read_otlp(producer.write_protobuf_json(tmp_path / "o.json"))
    assert frame["output_text"].to_list() == ["Buy the tent today"]


def test_file_detection(producer, tmp_path):
    agent_request(producer.tracer)
    for path in write_all(producer, tmp_path):
        assert is_otlp_file(path), path
    (tmp_path / "calls.csv").write_text("ts,model\n2026-01-01,m\n")
    (tmp_path / "other.json").write_text('{"rows": [{"ts": "2026-01-01"}]}')
    assert not is_otlp_file(tmp_path / "calls.csv") and not is_otlp_file(tmp_path / "other.json")
    assert not is_otlp_file(tmp_path / "absent.json")


def test_bad_files_get_clear_messages(producer, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceSpans": []}\n{"resourceSpans": [}\n')
    with pytest.raises(InputFileError, match="not valid JSON at line 2"):
        read_otlp(bad)
    bad.write_text('{"resourceSpans": []}')
    with pytest.raises(InputFileError, match="no spans found"):
        read_otlp(bad)
    with producer.tracer.start_as_current_span("GET /"):
        pass
    with pytest.raises(InputFileError, match="none is a GenAI span"):
        read_otlp(producer.write_sdk_json(tmp_path / "plain.json"))
    cycle = {"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "a" * 32, "spanId": "1" * 16, "parentSpanId": "2" * 16, "startTimeUnixNano": "1",
         "endTimeUnixNano": "2", "attributes": [{"key": "gen_ai.request.model", "value": {"stringValue": "m"}}]},
        {"traceId": "a" * 32, "spanId": "2" * 16, "parentSpanId": "1" * 16, "startTimeUnixNano": "1",
         "endTimeUnixNano": "2"}]}]}]}
    bad.write_text(json.dumps(cycle))
    with pytest.raises(InputFileError, match="cycle"):
        read_otlp(bad)
    backwards = json.loads(json.dumps(cycle))
    spans = backwards["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[0].update(parentSpanId="", startTimeUnixNano="5000", endTimeUnixNano="4000")
    bad.write_text(json.dumps(backwards))
    frame, report = read_otlp(bad)
    assert frame.height == 0 and report.skipped == {"endTimeUnixNano": 1} and report.notes


def test_cli_imports_into_a_contract_table(producer, tmp_path, capsys):
    for prompt in ("v2", "v3"):
        agent_request(producer.tracer, prompt=prompt)
    src = producer.write_collector_lines(tmp_path / "spans.jsonl")
    out = tmp_path / "data"
    assert main(["otel", "import", "--input", str(src), "--out", str(out), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["calls"] == 2 and doc["skipped"] == {} and doc["output"].endswith("llm_calls.parquet")
    table = load_table(out / "llm_calls.parquet", "llm_calls")
    summary = summarize_calls(table.frame, by=["prompt_version"])
    assert summary["calls"].to_list() == [1, 1] and summary["refusal_rate"].to_list() == [0.0, 0.0]
    assert main(["otel", "import", "--input", str(src), "--out", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert main(["otel", "import", "--input", str(src), "--out", str(out), "--force",
                 "--attribute", "feature=driftdesk.feature", "--attribute", "feature=service.name"]) == 0
    assert main(["otel", "import", "--input", str(src), "--out", str(out), "--attribute", "feature"]) == 2
    assert "ROLE=ATTRIBUTE" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["llm_calls.parquet"]  # nothing half-written left behind


def test_import_writes_atomically_and_refuses_a_file_as_folder(producer, tmp_path):
    agent_request(producer.tracer)
    src = producer.write_sdk_json(tmp_path / "s.json")
    (tmp_path / "taken").write_text("x")
    with pytest.raises(InputFileError, match="not a folder"):
        import_otlp(src, tmp_path / "taken")
    report = import_otlp(src, tmp_path / "new")
    assert report.output and pl.read_parquet(report.output).height == 1


# --------------------------------------------------------------------------- a property: tokens are never counted twice

Tree = st.recursive(st.tuples(st.none() | st.integers(0, 500), st.just(())),
                    lambda children: st.tuples(st.none() | st.integers(0, 500), st.lists(children, max_size=3)
                                               .map(tuple)), max_leaves=8)


def lowest_carriers(tree) -> int | None:
    """By hand: a span's tokens count only if nothing below it carries tokens."""
    tokens, children = tree
    below = [t for t in (lowest_carriers(c) for c in children) if t is not None]
    if below:
        return sum(below)
    return tokens


def emit(tracer, tree, *, root: bool) -> None:
    tokens, children = tree
    attributes = {"gen_ai.operation.name": "chat"} | ({"gen_ai.request.model": "m"} if root else {})
    if tokens is not None:
        attributes["gen_ai.usage.output_tokens"] = tokens
    with tracer.start_as_current_span("span", attributes=attributes):
        for child in children:
            emit(tracer, child, root=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(Tree)
def test_tokens_are_summed_over_the_lowest_spans_that_carry_them(tmp_path_factory, tree):
    producer = Producer()
    emit(producer.tracer, tree, root=True)
    frame, report = read_otlp(producer.write_collector_lines(tmp_path_factory.mktemp("t") / "spans.jsonl"))
    assert report.calls == 1
    expected = lowest_carriers(tree)
    assert frame["output_tokens"][0] == (None if expected is None else float(expected))


def test_a_folder_with_an_otlp_export_loads_it_as_llm_calls(producer, tmp_path):
    """The Data page and ``--data`` read a folder through the proposal: a file of spans is an llm_calls table by its
    content, whatever its name; a JSON file that is not spans is left out with a note, the rest still loads."""
    from driftdesk.contract import load_dataset
    from driftdesk.proposal import propose_folder

    for _ in range(3):
        agent_request(producer.tracer)
    folder = tmp_path / "exports"
    folder.mkdir()
    producer.write_collector_lines(folder / "traces-2026-10.jsonl")
    (folder / "settings.json").write_text(json.dumps({"theme": "dark"}))
    proposal = propose_folder(folder)
    assert proposal.tables.get("llm_calls") is not None
    dataset = load_dataset(folder)
    calls = dataset["llm_calls"].frame
    assert calls.height == 3 and calls["index_version"].to_list() == ["idx-2026-10"] * 3
    assert any("settings.json" in note for note in dataset.notes)


def test_spans_without_ids_are_named_as_such_not_as_missing_genai_attributes(tmp_path):
    from driftdesk.otel import read_otlp

    span = {"name": "chat", "startTimeUnixNano": "1780000000000000000", "endTimeUnixNano": "1780000001000000000",
            "attributes": [{"key": "gen_ai.request.model", "value": {"stringValue": "m"}}]}
    path = tmp_path / "spans.json"
    path.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}))
    with pytest.raises(InputFileError, match="none has a span id") as info:
        read_otlp(path)
    assert "none is a GenAI span" not in str(info.value)
    path.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        {**span, "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331"}]}]}]}))
    frame, report = read_otlp(path)
    assert frame.height == 1 and frame["model"].to_list() == ["m"]
