"""The Rollouts page: the sample's canary by default, a deep link sets the controls, bad choices give a message."""

from __future__ import annotations

from app_helpers import app_module, open_page, texts

PAGE = "app_pages/rollouts.py"
# two computations of the same judgement: polars' parallel sums may differ in the last bit from one run to the next
CLOSE = {"check_exact": False, "rel_tol": 1e-9, "abs_tol": 1e-12}


def test_the_default_view_is_the_latest_canary_and_rolls_back_on_de():
    at = open_page(PAGE)
    assert at.title[0].value == "Rollouts"
    assert (at.selectbox(key="control").value, at.selectbox(key="candidate").value) == ("v1.9", "v2.0")
    body = texts(at)
    assert "**Roll back** at 2026-10-08 00:00 UTC" in body and "geo=DE" in body
    banner = at.error[0].value
    assert banner.count("2026-10-08") == 1 and "00:00:00" not in banner  # the decision's time, once, as people write it
    assert len(at.dataframe[0].value) > 0


def test_a_deep_link_sets_the_controls():
    at = open_page(PAGE, control="v1.9", candidate="v2.0", by="geo")
    assert at.multiselect(key="by").value == ["geo"]
    table = at.dataframe[0].value
    assert set(table["segment"]) == {"geo=BR", "geo=DE", "geo=GB", "geo=IN", "geo=US"}


def test_the_same_version_on_both_sides_is_a_message_not_a_traceback():
    at = open_page(PAGE, control="v2.0", candidate="v2.0")
    assert any("both 'v2.0'" in e.value for e in at.error)


def test_the_pages_kept_judgement_is_the_librarys_and_another_span_or_segmentation_is_not_served_from_it(
        sample_dataset):
    """The page keeps each gate's evaluations by the data's version, the arms, the gate, the segmentation, the span
    and the step. A judgement through that cache equals the library's uncached one, and another span or another
    choice of segment columns computes its own evaluations (a cache keyed without the span would serve the first
    span's evaluations to the second and differ from the library here)."""
    import datetime as dt

    from polars.testing import assert_frame_equal

    from driftdesk.rollout import judge_rollout, rollout_view
    loaders = app_module("ui.loaders")

    table = sample_dataset["decisions"]
    loaders._rollout_gate.clear()
    memo = loaders.rollout_memo("sample", control="v1.9", candidate="v2.0")
    kept = {}
    for start in (None, dt.datetime(2026, 10, 6, 12)):
        for by in (None, ["geo", "device"]):
            for _ in range(2):  # computed, then served from the cache
                got = judge_rollout(table.frame, control="v1.9", candidate="v2.0", segments=table.segments,
                                    start=start, by=by, memo=memo)
                want = judge_rollout(table.frame, control="v1.9", candidate="v2.0", segments=table.segments,
                                     start=start, by=by)
                assert_frame_equal(got.evaluations, want.evaluations, **CLOSE)
                assert_frame_equal(got.timeline, want.timeline)
                assert (got.decision, got.decided_at, got.reason) == (want.decision, want.decided_at, want.reason)
            kept[(start, None if by is None else tuple(by))] = got
    first = kept[(None, None)].evaluations
    assert first["ts"].min() < kept[(dt.datetime(2026, 10, 6, 12), None)].evaluations["ts"].min()
    assert set(kept[(None, ("geo", "device"))].evaluations["segment"]).isdisjoint(first["segment"])
    for by in ((), ("geo", "device")):  # the page's own call, cached, against the library's
        for _ in range(2):
            page = loaders.rollout_of("sample", control="v1.9", candidate="v2.0", by=by)
            direct = rollout_view(sample_dataset, control="v1.9", candidate="v2.0", by=list(by) or None)
            assert_frame_equal(page.segments, direct.segments, **CLOSE)
            assert_frame_equal(page.evaluations, direct.evaluations, **CLOSE)
