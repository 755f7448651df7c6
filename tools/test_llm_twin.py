#!/usr/bin/env python3
"""Hand-computed cases of llm-serving.md §1 + twin_spec.md for tools/llm_twin.py.

Run from /work/main:  python3 -m unittest tools/test_llm_twin.py   or   python3 tools/test_llm_twin.py

Every expected value below was computed by hand (arithmetic in the comments), not by the twin.
Unless a test says otherwise the parameters are (see P()):
  1 replica, S = 4, B = 100, bs = 4, K = 100 (so L = 400),
  base = 0.01 s, prefill_token = 0.001 s, decode_token = 0.0001 s, context_token = 0.000001 s,
  i.e. a step lasts 10000 + 1000·P + 100·D + 1·C microseconds.
Times in the comments are microseconds.
"""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llm_twin as twin  # noqa: E402


def P(**kw):
    d = dict(replicas=1, max_num_seqs=4, max_num_batched_tokens=100, block_size=4,
             kv_blocks=100, base=0.01, prefill_token=0.001, decode_token=0.0001,
             context_token=0.000001)
    d.update(kw)
    return twin.Params(**d)


def run(rows, **kw):
    reqs, stats = twin.simulate(rows, P(**kw))
    return {r.id: r for r in reqs}, stats


class Case(unittest.TestCase):
    def check(self, r, outcome, replica, first, end, out_tokens, preemptions=0):
        self.assertEqual(
            (r.outcome, r.replica, r.first, r.end, r.g, r.preemptions),
            (outcome, replica, first, end, out_tokens, preemptions),
            f"request {r.id}")


class A_OneRequest(Case):
    def test_alone(self):
        # r0: arrival 0, p = 5, o = 3.
        # t=0: waiting pass: n = min(5, 100) = 5, blocks(5) = 2. P = 5:
        #      10000 + 5·1000 = 15000 -> ends 15000: c = 5 = p+g -> g = 1, first token.
        #      TTFT = base + prefill_token·p = 0.015 s.
        # t=15000: decoding (g=1, c=5=p+g-1): n = 1, need = blocks(6)-2 = 0. D=1, C=5:
        #      10000 + 100 + 5 = 10105 -> ends 25105: c = 6, g = 2.
        # t=25105: decoding, C = 6: 10106 -> ends 35211: c = 7, g = 3 = o: served.
        res, st = run([(0, 5, 3)])
        self.check(res[0], "served", 0, 15000, 35211, 3)
        self.assertEqual(st.steps, 3)


class B_ChunkedPrompt(Case):
    def test_chunked(self):
        # B = 4, r0: arrival 0, p = 10, o = 2.
        # t=0:     n = min(10, 4) = 4, P = 4: 14000 -> 14000, c = 4 (no token: c < p).
        # t=14000: running pass n = min(6, 4) = 4, need = blocks(8)-1 = 1. P = 4: 14000 -> 28000, c = 8.
        # t=28000: n = 2, P = 2: 12000 -> 40000, c = 10 = p+g: g = 1, first token at 40000.
        # t=40000: decoding, C = 10: 10000 + 100 + 10 = 10110 -> 50110, g = 2 = o: served.
        res, st = run([(0, 10, 2)], max_num_batched_tokens=4)
        self.check(res[0], "served", 0, 40000, 50110, 2)
        self.assertEqual(st.steps, 4)


class C_TwoRequestsShareSteps(Case):
    def test_join_at_step_boundary(self):
        # r0: arrival 0, p = 5, o = 3; r1: arrival 5000 (inside r0's first step), p = 3, o = 2.
        # t=0:     r0 prefill 5: 15000 -> 15000, r0 g = 1 (first 15000).
        # t=5000:  r1 arrives; the replica is in a step, r1 waits.
        # t=15000: running pass r0 decode (n = 1, C = 5); waiting pass r1 n = 3, need 1.
        #          P = 3, D = 1, C = 5: 10000 + 3000 + 100 + 5 = 13105 -> 28105.
        #          r0: c = 6, g = 2. r1: c = 3 = p+g: g = 1, first 28105 (TTFT 23105).
        # t=28105: r0 decode (c = 6), r1 decode (c = 3): D = 2, C = 9:
        #          10000 + 200 + 9 = 10209 -> 38314. r0 g = 3 = o, r1 g = 2 = o: both served.
        res, st = run([(0, 5, 3), (5000, 3, 2)])
        self.check(res[0], "served", 0, 15000, 38314, 3)
        self.check(res[1], "served", 0, 28105, 38314, 2)
        self.assertEqual(st.steps, 3)


class D_PreemptionAndRecompute(Case):
    def test_preempt_last_recompute(self):
        # bs = 4, K = 4 (16 tokens of KV; L = 16). S = 4, B = 100.
        # r0: arrival 0, p = 4, o = 6.  r1: arrival 0, p = 4, o = 6.  r2: arrival 50000, p = 8, o = 1.
        # t=0:     waiting pass: r0 n = 4 (gate blocks(4) = 1 <= 4, need 1, free 3);
        #          r1 n = 4 (need 1, free 2). P = 8: 18000 -> 18000: r0, r1 g = 1 (first 18000).
        # t=18000: r0 decode need blocks(5)-1 = 1 (free 1), r1 same (free 0). D = 2, C = 4+4 = 8:
        #          10208 -> 28208: c = 5, g = 2 each, b = 2 each.
        # t=28208: need blocks(6)-2 = 0 each. C = 10: 10210 -> 38418: c = 6, g = 3.
        # t=38418: need blocks(7)-2 = 0. C = 12: 10212 -> 48630: c = 7, g = 4.
        # t=48630: need blocks(8)-2 = 0. C = 14: 10214 -> 58844: c = 8, g = 5.
        # t=50000: r2 arrives -> waiting [r2].
        # t=58844: running pass r0: n = 1, need = blocks(9)-2 = 1 > free 0 -> preempt the LAST of
        #          running, r1: free 2, c1 = 0, g1 = 5 kept, waiting = [r1, r2] (head). r0 gets its
        #          block (free 1). A step that preempted admits nothing (r2 would fit: 2 blocks? no,
        #          blocks(8) = 2 > 1; and the pass is skipped anyway). D = 1, C = 8: 10108 -> 68952:
        #          r0 c = 9, g = 6 = o: served at 68952, frees 3 blocks (free 4).
        # t=68952: waiting pass: head r1: num_tokens = 4 + 5 = 9, c = 0, n = 9, gate blocks(9) = 3
        #          <= 4 -> admitted (free 1). r2: gate blocks(8) = 2 > 1 -> stop.
        #          r1 has g = 5 but c = 0 != p+g-1: all 9 tokens are prefill. P = 9: 19000 -> 87952:
        #          c = 9 = p+g -> emits its 6th token at the end of the recompute: served at 87952.
        # t=87952: r2 n = 8, gate 2 <= 4. P = 8: 18000 -> 105952: g = 1 = o: served.
        # (Had r1 gone to the TAIL of waiting, r2 would have run first at 68952.)
        res, st = run([(0, 4, 6), (0, 4, 6), (50000, 8, 1)], kv_blocks=4)
        self.check(res[0], "served", 0, 18000, 68952, 6, 0)
        self.check(res[1], "served", 0, 18000, 87952, 6, 1)
        self.check(res[2], "served", 0, 105952, 105952, 1, 0)
        self.assertEqual(st.preemption_events, 1)

    def test_victim_is_last_of_running(self):
        # bs = 4, K = 6 (L = 24). r0, r1, r2 @0, p = 4, o = 6 each.
        # t=0:     all admitted, 1 block each (free 3). P = 12: 22000 -> 22000: g = 1 each.
        # t=22000: each needs blocks(5)-1 = 1 (free 0). D = 3, C = 12: 10312 -> 32312: c = 5, g = 2.
        # t=32312: need 0 (blocks(6) = 2). C = 15: 10315 -> 42627: c = 6, g = 3.
        # t=42627: need 0. C = 18: 10318 -> 52945: c = 7, g = 4.
        # t=52945: need 0. C = 21: 10321 -> 63266: c = 8, g = 5.
        # t=63266: r0 needs blocks(9)-2 = 1 > free 0 -> victim is the LAST of running, r2 (not
        #          r1): free 2; r0 takes 1, r1 takes 1 (free 0). D = 2, C = 16: 10216 -> 73482:
        #          r0 and r1 reach g = 6 = o: served, free 6.
        # t=73482: r2 recomputes p+g = 9 tokens: P = 9: 19000 -> 92482: g = 6: served.
        res, st = run([(0, 4, 6)] * 3, kv_blocks=6)
        self.check(res[0], "served", 0, 22000, 73482, 6, 0)
        self.check(res[1], "served", 0, 22000, 73482, 6, 0)
        self.check(res[2], "served", 0, 22000, 92482, 6, 1)
        self.assertEqual(st.preemption_events, 1)

    def test_self_preemption_ends_running_pass(self):
        # bs = 4, K = 3 (L = 12), B = 100. r0: arrival 0, p = 4, o = 5. r1: arrival 0, p = 4, o = 2.
        # t=0:     r0 n = 4 need 1 (free 2), r1 n = 4 need 1 (free 1). P = 8: 18000 -> 18000,
        #          g = 1 each.
        # t=18000: r0 need blocks(5)-1 = 1 (free 0); r1 need blocks(5)-1 = 1 > 0 -> victim = last of
        #          running = r1 itself: r1 preempted (free 1), running pass ends, no waiting pass.
        #          D = 1, C = 4: 10104 -> 28104: r0 c = 5, g = 2.
        # t=28104: r0 need blocks(6)-2 = 0. Waiting pass: r1 num_tokens = 5, gate blocks(5) = 2 > 1
        #          -> stop. D = 1, C = 5: 10105 -> 38209: r0 g = 3.
        # t=38209: r0 C = 6: 10106 -> 48315: g = 4. r1 still blocked (2 > 1).
        # t=48315: r0 need blocks(8)-2 = 0, C = 7: 10107 -> 58422: g = 5 = o: served, free 3.
        # t=58422: r1 recompute n = 5, P = 5: 15000 -> 73422: c = 5 = p+g: g = 2 = o: served.
        res, st = run([(0, 4, 5), (0, 4, 2)], kv_blocks=3)
        self.check(res[0], "served", 0, 18000, 58422, 5, 0)
        self.check(res[1], "served", 0, 18000, 73422, 2, 1)


class E_TooLongAndCap(Case):
    def test_too_long_and_cap(self):
        # 2 replicas, L = 10 (K·bs = 400).
        # r0: arrival 0, p = 10 >= L -> too_long at 0, not routed (not numbered).
        # r1: arrival 0, p = 7, o = 5 -> o = min(5, 10-7) = 3; routed k = 0 -> replica 0.
        # r2: arrival 0, p = 2, o = 1 -> routed k = 1 -> replica 1.
        # replica 0: t=0 P = 7: 17000 -> 17000 g = 1; C = 7: 10107 -> 27107 g = 2;
        #            C = 8: 10108 -> 37215 g = 3 = capped o: served, 3 tokens.
        # replica 1: t=0 P = 2: 12000 -> 12000: served.
        res, _ = run([(0, 10, 4), (0, 7, 5), (0, 2, 1)], replicas=2, max_model_len=10)
        self.check(res[0], "too_long", None, None, 0, 0)
        self.check(res[1], "served", 0, 17000, 37215, 3)
        self.check(res[2], "served", 1, 12000, 12000, 1)

    def test_l_above_cache_refused(self):
        with self.assertRaises(ValueError):
            P(kv_blocks=10, max_model_len=41)


class F_QueueFull(Case):
    def test_queue_limit(self):
        # queue_limit = 1, 1 replica; all p = 4, o = 1.
        # r0 @0: waiting [] -> joins, scheduled at once: P = 4: 14000 -> served 14000.
        # r1 @1000: waiting has 0 (< 1) -> joins waiting.
        # r2 @2000: waiting has 1 (>= 1) -> queue_full at 2000 (replica 0).
        # t=14000: r1 P = 4: 14000 -> served 28000.
        res, _ = run([(0, 4, 1), (1000, 4, 1), (2000, 4, 1)], queue_limit=1)
        self.check(res[0], "served", 0, 14000, 14000, 1)
        self.check(res[1], "served", 0, 28000, 28000, 1)
        self.check(res[2], "queue_full", 0, None, 2000, 0)

    def test_queue_full_counts_as_routed(self):
        # queue_limit = 0, 2 replicas: every request is refused, but each is numbered:
        # k = 0, 1, 2 -> replicas 0, 1, 0.
        res, _ = run([(0, 4, 1), (0, 4, 1), (7, 4, 1)], replicas=2, queue_limit=0)
        self.check(res[0], "queue_full", 0, None, 0, 0)
        self.check(res[1], "queue_full", 1, None, 0, 0)
        self.check(res[2], "queue_full", 0, None, 7, 0)


class G_Timeouts(Case):
    # r0 as in A: first token 15000, g = 2 at 25105, finishes at 35211 (step [25105, 35211)).
    def test_timeout_at_finishing_step_end_is_served(self):
        # deadline = 0 + 35211 = the end of the step that finishes it: step ends first -> served.
        res, _ = run([(0, 5, 3)], timeout_us=35211)
        self.check(res[0], "served", 0, 15000, 35211, 3)

    def test_timeout_at_non_finishing_step_end(self):
        # deadline 25105 = end of the 2nd step: its token is applied first (g = 2), then timeout.
        res, _ = run([(0, 5, 3)], timeout_us=25105)
        self.check(res[0], "timeout", 0, 15000, 25105, 2)

    def test_timeout_mid_step(self):
        # K = 2, bs = 4 (L = 8; r0 p + o = 8 fits, o stays 3). timeout 30000.
        # r0 deadline 30000 falls inside the step [25105, 35211): at 30000 r0 leaves running and
        # frees its 2 blocks; timeout, end 30000, 2 tokens emitted.
        # r1: arrival 31000, p = 2, o = 1 (deadline 61000). The step in progress keeps its length:
        # r1 waits for 35211 (where r0's token is not applied), then P = 2: 12000 -> 47211 served.
        # r2: arrival 31000, p = 7, o = 1 (deadline 61000): at 35211 the gate blocks(7) = 2 >
        # free 1 (r1 holds 1) -> waits; 47211: P = 7: 17000 -> 64211 > deadline 61000, so at 61000
        # it times out while scheduled in that step, with 0 tokens; the step still ends at 64211.
        # r3: arrival 62000, p = 2, o = 1: waits for 64211, P = 2: 12000 -> served 76211.
        rows = [(0, 5, 3), (31000, 2, 1), (31000, 7, 1), (62000, 2, 1)]
        res, st = run(rows, kv_blocks=2, timeout_us=30000)
        self.check(res[0], "timeout", 0, 15000, 30000, 2)
        self.check(res[1], "served", 0, 47211, 47211, 1)
        self.check(res[2], "timeout", 0, None, 61000, 0)
        self.check(res[3], "served", 0, 76211, 76211, 1)
        self.assertEqual(st.steps, 6)

    def test_timeout_while_waiting(self):
        # S = 1, timeout 36000. r0 @0 p = 5, o = 3: as in A, served at 35211 (< deadline 36000).
        # r1, r2 @0 p = 2, o = 1 wait (len(running) = S). At 35211 r1 is admitted (S = 1 again
        # stops r2): P = 2: 12000 -> 47211. At 36000 both deadlines: r1 leaves the step in
        # progress, r2 leaves waiting; both timeout with nothing emitted.
        res, _ = run([(0, 5, 3), (0, 2, 1), (0, 2, 1)], max_num_seqs=1, timeout_us=36000)
        self.check(res[0], "served", 0, 15000, 35211, 3)
        self.check(res[1], "timeout", 0, None, 36000, 0)
        self.check(res[2], "timeout", 0, None, 36000, 0)


class H_SameInstantArrivals(Case):
    def test_same_microsecond_same_first_step(self):
        # r0 @1000 p = 3, o = 1; r1 @1000 p = 2, o = 1: both routed before the replica schedules:
        # one step at 1000 with P = 5: 15000 -> both served at 16000.
        res, st = run([(1000, 3, 1), (1000, 2, 1)])
        self.check(res[0], "served", 0, 16000, 16000, 1)
        self.check(res[1], "served", 0, 16000, 16000, 1)
        self.assertEqual(st.steps, 1)


class I_FullSequenceGate(Case):
    def test_gate_blocks_admission_when_chunk_fits(self):
        # bs = 4, K = 4 (L = 16), B = 4.  r0 @0 p = 4, o = 3;  r1 @1000 p = 12, o = 1.
        # t=0:     r0 n = 4, need 1 (free 3). P = 4: 14000 -> 14000: g = 1.
        # t=14000: r0 decode, need blocks(5)-1 = 1 (free 2), budget 3. Waiting pass: r1
        #          n = min(12, 3) = 3, need = blocks(3) = 1 <= 2 would fit, but the gate
        #          blocks(12) - 0 = 3 > 2 -> stop. D = 1, C = 4: 10104 -> 24104: r0 g = 2.
        # t=24104: r0 need blocks(6)-2 = 0; r1 gate 3 > 2. C = 5: 10105 -> 34209: r0 g = 3 = o,
        #          served, free 4.
        # t=34209: r1 n = 4, gate 3 <= 4, need 1. P = 4: 14000 -> 48209, c = 4.
        # t=48209: n = 4, need blocks(8)-1 = 1: 14000 -> 62209, c = 8.
        # t=62209: n = 4, need blocks(12)-2 = 1: 14000 -> 76209, c = 12 = p: g = 1 = o: served.
        res, _ = run([(0, 4, 3), (1000, 12, 1)], kv_blocks=4, max_num_batched_tokens=4)
        self.check(res[0], "served", 0, 14000, 34209, 3)
        self.check(res[1], "served", 0, 76209, 76209, 1)


class Horizon(Case):
    def test_horizon(self):
        # r0 as in A. Horizon 25106 (exclusive): the step ending at 25105 is applied (g = 2),
        # the next one (ends 35211) is not: in_flight, no end. r1 arrives at 25105 (< horizon):
        # routed, in_flight with nothing emitted. r2 arrives at 25106 = horizon: not in output.
        reqs, _ = twin.simulate([(0, 5, 3), (25105, 2, 1), (25106, 2, 1)], P(horizon_us=25106))
        self.assertEqual([r.id for r in reqs], [0, 1])
        self.check(reqs[0], "in_flight", 0, 15000, None, 2)
        self.check(reqs[1], "in_flight", 0, None, None, 0)
        # Horizon 25105: the step ending exactly at it is not applied (g stays 1) and r1,
        # arriving at it, is not in the output.
        reqs, _ = twin.simulate([(0, 5, 3), (25105, 2, 1)], P(horizon_us=25105))
        self.assertEqual([r.id for r in reqs], [0])
        self.check(reqs[0], "in_flight", 0, 15000, None, 1)


class Clock(unittest.TestCase):
    def test_parse_fmt(self):
        self.assertEqual(twin.parse_us("12.345678"), 12345678)
        self.assertEqual(twin.parse_us("1.5"), 1500000)
        self.assertEqual(twin.parse_us("3"), 3000000)
        self.assertEqual(twin.parse_us("0.000001"), 1)
        for bad in ("1.1234567", "-1", "1e3", "", ".5", "1."):
            with self.assertRaises(ValueError):
                twin.parse_us(bad)
        self.assertEqual(twin.fmt_us(12345678), "12.345678")
        self.assertEqual(twin.fmt_us(7), "0.000007")

    def test_round_half_away(self):
        self.assertEqual(twin.round_half_away(0.49999999999999994), 0)  # floor(v+0.5) gives 1
        self.assertEqual(twin.round_half_away(2.5), 3)
        self.assertEqual(twin.round_half_away(2.4999), 2)
        self.assertEqual(twin.round_half_away(7.0), 7)
        # 0.019000000000000003 s -> 19000.000000000004 us -> 19000
        self.assertEqual(twin.round_half_away_us(0.01 + 0.001 * 9.0), 19000)


class Azure(unittest.TestCase):
    TRACE = ("TIMESTAMP,ContextTokens,GeneratedTokens\n"
             "2023-11-16 18:17:03.9799600,4808,10\n"     # t0; rel 0
             "2023-11-16 18:17:04.0319604,3180,8\n"      # 04.031960 (7th digit 4) -> 0.052000
             "2023-11-16 18:17:04.0319605,100,2\n"       # 7th digit 5 -> +1 us -> 0.052001
             "2023-11-16 18:17:04.9999995,5,6\n"         # 04.999999 + 1 us = 05.000000 -> 1.020040
             "2023-11-16 18:18:03.9799600,7,8")          # +60 s -> 60.000000 (no final newline)

    def test_convert(self):
        out = twin.convert_azure(self.TRACE, 0, 60 * 10**6)
        self.assertEqual(out, "arrival_s,prompt_tokens,output_tokens\n"
                              "0.000000,4808,10\n0.052000,3180,8\n0.052001,100,2\n"
                              "1.020040,5,6\n")
        # a slice keeps the offsets from the file's first row; interval [from, to)
        out = twin.convert_azure(self.TRACE, 52001, 61 * 10**6)
        self.assertEqual(out, "arrival_s,prompt_tokens,output_tokens\n"
                              "0.052001,100,2\n1.020040,5,6\n60.000000,7,8\n")


class CommandLine(unittest.TestCase):
    def test_cli_case_a(self):
        with tempfile.TemporaryDirectory() as d:
            inp, out = os.path.join(d, "in.csv"), os.path.join(d, "out.csv")
            with open(inp, "w") as f:
                f.write("arrival_s,prompt_tokens,output_tokens\n0.5,5,3\n0.5,10000,1\n")
            twin.main([inp, "--out", out, "--replicas", "1", "--max-num-seqs", "4",
                       "--max-num-batched-tokens", "100", "--block-size", "4",
                       "--kv-blocks", "100", "--base", "0.01", "--prefill-token", "0.001",
                       "--decode-token", "0.0001", "--context-token", "0.000001"])
            with open(out) as f:
                text = f.read()
        # case A shifted by 0.5 s; the second row is too_long (10000 >= L = 400).
        self.assertEqual(text,
                         "id,arrival_s,replica,first_token_s,end_s,prompt_tokens,output_tokens,"
                         "outcome,preemptions\n"
                         "0,0.500000,0,0.515000,0.535211,5,3,served,0\n"
                         "1,0.500000,,,0.500000,10000,0,too_long,0\n")


if __name__ == "__main__":
    unittest.main()
