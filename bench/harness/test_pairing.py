#!/usr/bin/env python3
"""Unit tests of the latency phase's pairing and table (bench/harness/run.py), on made-up figures: starts are
paired with onsets by their first frame's logged arrival, and (a) counted from the event's `started_at` is
reported beside (a) counted from that arrival."""
import importlib.util
import unittest
from pathlib import Path

spec = importlib.util.spec_from_file_location("harness_run", Path(__file__).with_name("run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

PERIOD_MS = 6200.0


def onset(sent_ms, number):
    return {"sent_ms": sent_ms, "mount": "cam0", "number": number, "frame": 31}


def start(ident, started_ms, arrived_ms, recv_ms):
    return {"id": ident, "started_ms": started_ms, "arrived_ms": arrived_ms, "published_ms": recv_ms - 5,
            "recv_ms": recv_ms}


class PairOnsets(unittest.TestCase):
    def test_each_figure_of_a_pair(self):
        pairs = run.pair_onsets([onset(1000.0, 1)], [start("a", 1160.0, 1215.0, 1250.0)], PERIOD_MS)
        self.assertEqual(len(pairs), 1)
        p = pairs[0]
        self.assertEqual((p["onset"], p["id"], p["sent_ms"]), (1, "a", 1000.0))
        self.assertEqual(p["arrival_to_recv_ms"], 35.0)
        self.assertEqual(p["started_to_recv_ms"], 90.0)
        self.assertEqual(p["sim_to_recv_ms"], 250.0)
        self.assertEqual(p["sim_to_arrival_ms"], 215.0)
        self.assertEqual(p["started_at_minus_arrival_ms"], -55.0)

    def test_the_onset_is_the_last_sent_before_the_frame_arrived(self):
        onsets = [onset(1000.0, 1), onset(7200.0, 2)]
        starts = [start("b", 7390.0, 7410.0, 7430.0), start("a", 1190.0, 1215.0, 1250.0)]
        self.assertEqual([(p["id"], p["sent_ms"]) for p in run.pair_onsets(onsets, starts, PERIOD_MS)],
                         [("a", 1000.0), ("b", 7200.0)])

    def test_one_start_per_onset_and_none_later_than_a_period(self):
        onsets = [onset(1000.0, 1)]
        starts = [start("a", 1190.0, 1215.0, 1250.0), start("again", 1390.0, 1415.0, 1450.0),
                  start("late", 7990.0, 8000.0, 9000.0)]
        self.assertEqual([p["id"] for p in run.pair_onsets(onsets, starts, PERIOD_MS)], ["a"])
        self.assertEqual(run.pair_onsets(onsets, starts[2:], PERIOD_MS), [])

    def test_onsets_numbered_again_after_a_reconnect_are_told_apart_by_send_time(self):
        onsets = [onset(1000.0, 1), onset(20000.0, 1)]
        starts = [start("a", 1190.0, 1215.0, 1250.0), start("b", 20190.0, 20215.0, 20250.0)]
        self.assertEqual([p["sent_ms"] for p in run.pair_onsets(onsets, starts, PERIOD_MS)], [1000.0, 20000.0])


class LatencyTable(unittest.TestCase):
    def test_started_at_is_read_beside_the_arrival(self):
        def fig(v):
            return {"p50": v, "p95": v + 1, "max": v + 2}
        lat = {"paired": 2, "detect_mode": "every_frame", "motion": "default", "arrival_to_recv_ms": fig(10),
               "started_to_recv_ms": fig(60), "sim_to_recv_ms": fig(200), "sim_to_arrival_ms": fig(190),
               "started_at_minus_arrival_ms": fig(-50)}
        lines = run.latency_table(lat).splitlines()
        self.assertEqual(lines[2], "| (a) frame arrival → `start` received | 10 | 11 | 12 |")
        self.assertEqual(lines[3], "| (a) counted from the event's `started_at` instead | 60 | 61 | 62 |")
        self.assertEqual(lines[-1], "| event `started_at` − frame arrival | -50 | -49 | -48 |")

    def test_no_figures_says_why(self):
        self.assertEqual(run.latency_table({"error": "only 0 of 2 onsets gave a start event"}),
                         "latency: only 0 of 2 onsets gave a start event")


if __name__ == "__main__":
    unittest.main()
