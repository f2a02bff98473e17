#!/usr/bin/env python3
"""Matthan's whole-node benchmark: N simulated 720p cameras, the engine, the decode floor and (when
installed) the Motion daemon, measured one after the other in one run against the same streams.

Every figure comes from the kernel's accounting (/proc/<pid>/stat, status) over a fixed window after a
warm-up. Absolute numbers drift on a shared machine; the ratios (engine / floor, engine / Motion) measured
in one run are what to compare over time. See docs/PERFORMANCE.md.

Usage:
  bench/harness/run.py --build build [--cameras 1,16] [--content busy,empty] [--window 60] [--warmup 15]
                       [--out build/bench-results] [--no-peer] [--no-keyframes] [--only engine,floor,...]
                       [--clip-cost] [--rss-every 15] [--latency-onsets 20] [--latency-mode every_frame|keyframes]
                       [--latency-motion quick|default|persist]

With keyframes on (the default) two more contenders run: the engine in `detect.mode: keyframes` and the
keyframe-only decode floor (delta units dropped before avdec_h264), reported as engine-keyframes ÷ that floor.

--clip-cost adds three contenders: the engine with clips off (a mask over the whole picture: the same analysis,
no incident, no clip), a remux-only recorder (rtspsrc ! depay ! parse ! mp4mux ! filesink) and the same client
receiving only (up to the parser, into a fakesink); its table gives clips on − off against remux − receive.
Every engine run samples its RSS every --rss-every s over the window (first / last / max and the slope in MB/min,
in the JSON and the per-engine-run table).

The latency phase (--latency-onsets N, 0 skips it) serves `test:onsets` (a still 720p scene with a scripted
motion onset every 6.2 s; the simulator logs the wall time at which each onset's first frame went to its live
encoder), runs the engine on it with rtsp_latency_ms 200 and motion set to start on the first analysed frame
with motion (--latency-motion default: the default start_frames and gate), subscribes to its incidents with `matthan tail`, and reports p50 / p95 of (a) receipt of the
`start` event − the arrival of the incident's first frame at the engine (when the decoded frame reached
the engine's analysis hand-off, logged by the engine as "incident ID latency: first frame arrived MS
published MS") and (b) receipt − the simulator's send time of the onset's first frame. Beside (a) it reports
(a) counted from the event's own `started_at`, what a subscriber can work out from the event alone; it is not
the measure, because `started_at` dates the frame by the quickest delivery of the last 30 s, not by its own
arrival (bench/journal/2026-12-07-started-at-against-arrival.md).

Writes <out>/results.json and <out>/results.md and prints the table. Exit 0 when every run produced its
figures, 1 otherwise (a missing Motion daemon is reported, not a failure).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
FPS = 10
GOP = 20  # a keyframe every 2 s at 10 fps


def log(msg):
    print(f"[harness] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- /proc accounting
def proc_tree(pid):
    """pid and all its descendants (the decode floor may run several processes)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            kids = []
        todo.extend(int(k) for k in kids)
    return out


def cpu_seconds(pid):
    total = 0.0
    for p in proc_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
    return total


def rss_threads(pid):
    rss, threads = 0, 0
    for p in proc_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Threads:"):
                    threads += int(line.split()[1])
        except OSError:
            pass
    return rss, threads


RSS_EVERY = 15.0  # seconds between RSS samples over a window (--rss-every)
ENGINE_CPUS = None  # --engine-cpus: a taskset CPU list the engine runs on (an overload on purpose), or None


def engine_argv(matthan, cfg):
    """`matthan run`, pinned to ENGINE_CPUS with taskset when --engine-cpus is given."""
    argv = [str(matthan), "run", "--config", str(cfg)]
    return ["taskset", "-c", ENGINE_CPUS, *argv] if ENGINE_CPUS else argv


def rss_trend(samples):
    """First, last and max RSS (MB) of [(seconds into the window, bytes)], and the least-squares slope in MB/min."""
    if not samples:
        return {}
    ts = [t / 60.0 for t, _ in samples]
    mb = [b / 1e6 for _, b in samples]
    slope = 0.0
    if len(samples) > 1:
        mt, mm = sum(ts) / len(ts), sum(mb) / len(mb)
        den = sum((t - mt) ** 2 for t in ts)
        slope = sum((t - mt) * (m - mm) for t, m in zip(ts, mb)) / den if den else 0.0
    return {"rss_first_mb": mb[0], "rss_last_mb": mb[-1], "rss_max_mb": max(mb), "rss_slope_mb_per_min": slope,
            "rss_samples": [[round(t, 1), round(b / 1e6, 1)] for t, b in samples]}


def measure(proc, warmup, window, label, probe=None):
    """CPU seconds used by proc (and children) over `window` after `warmup`, plus RSS/threads at the end and RSS
    sampled every RSS_EVERY seconds over the window (first / last / max and the slope: memory growth).
    probe: a function called at the window's start and at its end; out["probe"] holds both answers."""
    deadline = time.monotonic() + warmup
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{label} exited during warm-up (code {proc.returncode})")
        time.sleep(0.2)
    probed = [probe()] if probe else None
    c0, t0 = cpu_seconds(proc.pid), time.monotonic()
    peak_rss = 0
    samples, next_sample = [], t0
    while time.monotonic() < t0 + window:
        if proc.poll() is not None:
            raise RuntimeError(f"{label} exited during the window (code {proc.returncode})")
        now, rss = time.monotonic(), rss_threads(proc.pid)[0]
        peak_rss = max(peak_rss, rss)
        if now >= next_sample:
            samples.append((now - t0, rss))
            next_sample += RSS_EVERY
        time.sleep(0.5)
    c1, t1 = cpu_seconds(proc.pid), time.monotonic()
    rss, threads = rss_threads(proc.pid)
    samples.append((t1 - t0, rss))
    out = {"cpu_s": c1 - c0, "wall_s": t1 - t0, "rss_bytes": rss, "peak_rss_bytes": max(peak_rss, rss),
           "threads": threads}
    if probe:
        out["probe"] = probed + [probe()]
    out.update(rss_trend(samples))
    return out


def stop(proc, timeout=20):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- inputs
def prepare_content(cache: Path):
    """720p 10 fps H.264 with a keyframe every 2 s, encoded once and cached; the simulator only remuxes."""
    cache.mkdir(parents=True, exist_ok=True)
    busy, empty = cache / "vtest-720p10-gop20.mp4", cache / "empty-720p10-gop20.mp4"
    enc = ["-an", "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-bf", "0", "-g", str(GOP),
           "-keyint_min", str(GOP), "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-r", str(FPS)]
    if not busy.exists():
        if not VTEST.exists():
            raise RuntimeError(f"{VTEST} is missing: apt-get install opencv-doc")
        log(f"encoding {busy.name} (once)")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(VTEST), "-vf", "scale=1280:720,fps=10", *enc,
                        str(busy) + ".tmp.mp4"], check=True)
        os.replace(str(busy) + ".tmp.mp4", busy)
    if not empty.exists():
        # A still street (vtest's first frame) for 60 s, with the encoder's own noise only: the idle cost.
        log(f"encoding {empty.name} (once)")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(VTEST), "-frames:v", "1", "-vf", "scale=1280:720",
                        str(cache / "still.png")], check=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-loop", "1", "-t", "60", "-i", str(cache / "still.png"),
                        *enc, str(empty) + ".tmp.mp4"], check=True)
        os.replace(str(empty) + ".tmp.mp4", empty)
    return {"busy": busy, "empty": empty}


class Simulator:
    def __init__(self, matthan, clip, n, workdir, extra=()):
        self.port = free_port()
        args = [str(matthan), "sim", "--listen", f"127.0.0.1:{self.port}", "--cache", str(workdir / "sim-cache"),
                *extra]
        for i in range(n):
            args += ["--source", f"cam{i}={clip}"]
        self.log = open(workdir / "sim.log", "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.urls = [f"rtsp://127.0.0.1:{self.port}/cam{i}" for i in range(n)]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"matthan sim exited: {(workdir / 'sim.log').read_text()[-2000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError("matthan sim did not listen within 120 s")

    def close(self):
        stop(self.proc)
        self.log.close()


# ---------------------------------------------------------------- the three contenders
# A mask over the whole picture: motion is still computed on every analysed frame (the mask is applied to the
# foreground after the background model), but nothing counts, so no incident opens and no clip is written.
WHOLE_MASK = "    masks: [[[0, 0], [1, 0], [1, 1], [0, 1]]]\n"


def objects_yaml(objects):
    """The cameras' detect.objects: a Darknet model folder (cfg, weights, coco.names), or {} (OpenCV's HOG people
    detector, which needs no file); None: no object detection."""
    if objects is None:
        return ""
    recheck = f"recheck_s: {RECHECK_S:g}" if RECHECK_S is not None else ""
    if objects == "hog":
        return f", objects: {{{recheck}}}"
    d = Path(objects)
    cfg, weights = model_files(d)
    return (f", objects: {{model: {{cfg: \"{cfg}\", weights: \"{weights}\", names: \"{d / 'coco.names'}\", "
            f"input: 320}}{', ' + recheck if recheck else ''}}}")


def detector_metrics(port):
    """The object detector's calls and the seconds they took, from the engine's /metrics (None if unreachable)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    out = {}
    for name, key in (("matthan_detector_latency_seconds_count", "calls"),
                      ("matthan_detector_latency_seconds_sum", "seconds")):
        m = re.search(rf'^{name}{{detector="objects"}} ([0-9.eE+-]+)$', text, re.M)
        if m:
            out[key] = float(m.group(1))
    return out if len(out) == 2 else None


def detection_cost(probe, n, wall_s):
    """Object detector calls per camera-minute and milliseconds per call over the window."""
    if not probe or None in probe:
        return {}
    calls = probe[1]["calls"] - probe[0]["calls"]
    seconds = probe[1]["seconds"] - probe[0]["seconds"]
    return {"detector_calls": calls, "detector_calls_per_cam_min": calls / n / (wall_s / 60),
            "detector_ms_per_call": 1000 * seconds / calls if calls else None}


def run_engine(matthan, urls, workdir, warmup, window, mode="every_frame", clips=True, still=False):
    tag = mode if clips else f"{mode}-noclips"
    root = workdir / f"engine-var-{tag}"
    shutil.rmtree(root, ignore_errors=True)
    cfg = workdir / f"engine-{tag}.yaml"
    cams = "".join(f"  - id: {u.rsplit('/', 1)[1]}\n    url: {u}\n    transport: tcp\n"
                   + ("" if clips else WHOLE_MASK) for u in urls)
    metrics_port = free_port()
    cfg.write_text(
        "node: bench\n"
        f"storage: {{root: \"{root}\", min_free_bytes: 0}}\n"
        f"events: {{bind: \"tcp://127.0.0.1:{free_port()}\"}}\n"
        f"metrics: {{listen: \"127.0.0.1:{metrics_port}\"}}\n"
        "health: {heartbeat_s: 2}\n"
        "defaults:\n"
        f"  detect: {{fps: 5, mode: {mode}{objects_yaml(OBJECTS)}}}\n"
        # The still content's pictures are bit-identical (one PNG, encoded the same way every GOP; a real
        # sensor's never are), so the frozen-picture watchdog would reconnect after 10 s (every 10 s with
        # keyframes only), and each reconnect's pipeline rebuild would be counted as per-frame cost.
        + ("  watchdog: {frozen_s: 0}\n" if mode == "keyframes" or still else "") +
        "  clip: {pre_roll: 5, post_roll: 5, max_length: 300}\n"
        f"cameras:\n{cams}")
    with open(workdir / ("engine.log" if tag == "every_frame" else f"engine-{tag}.log"), "w") as out:
        proc = subprocess.Popen(engine_argv(matthan, cfg), stdout=out, stderr=subprocess.STDOUT)
        try:
            m = measure(proc, warmup, window, "matthan run", probe=lambda: detector_metrics(metrics_port))
        finally:
            stop(proc)
    m.update(detection_cost(m.pop("probe", None), len(urls), m["wall_s"]))
    m.update(engine_counters(root / "index.db", len(urls)))
    m.update(clip_files(root))
    return m


def clip_files(root):
    """MP4 files under the storage root's clips/ and their bytes (clips still open at the stop are finished by it)."""
    files = list((Path(root) / "clips").rglob("*.mp4"))
    return {"clip_files": len(files), "clip_bytes": sum(f.stat().st_size for f in files if f.exists())}


def engine_counters(db, n):
    """Frames analysed and dropped per camera, from the last health message of each camera in the index; the
    cameras that were streaming at some point (the last message is `stopped`, written at the engine's shutdown),
    and those that analysed at least one frame (under overload a camera can stream and have every frame dropped)."""
    out = {"frames_analysed": 0, "frames_dropped": 0, "cameras_streaming": 0, "cameras_analysing": 0,
           "reconnects": 0, "stalls": 0}
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        rows = con.execute("SELECT topic, payload FROM events WHERE topic LIKE 'health.%' ORDER BY seq").fetchall()
        out["incidents"] = con.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
        con.close()
    except sqlite3.Error as e:
        out["error"] = f"index: {e}"
        return out
    last, streamed = {}, set()
    for topic, payload in rows:
        last[topic] = json.loads(payload)
        if last[topic].get("state") == "streaming":
            streamed.add(topic)
    for h in last.values():
        out["frames_analysed"] += h["counters"]["frames_analysed"]
        out["frames_dropped"] += h["counters"]["frames_dropped"]
        out["reconnects"] += h["counters"].get("reconnects", 0)
        out["stalls"] += h["counters"].get("stalls", 0)
    out["cameras_streaming"] = len(streamed)
    out["cameras_analysing"] = sum(1 for h in last.values() if h["counters"]["frames_analysed"] > 0)
    # The spread between cameras shows whether the analysis served them in turn under overload.
    per_camera = [h["counters"]["frames_analysed"] for h in last.values()] + [0] * max(0, n - len(last))
    if per_camera:
        out["analysed_min"], out["analysed_max"] = min(per_camera), max(per_camera)
    total = out["frames_analysed"] + out["frames_dropped"]
    out["dropped_pct"] = 100.0 * out["frames_dropped"] / total if total else 0.0
    return out


def run_floor(urls, workdir, warmup, window, keyframes_only=False):
    """rtspsrc ! depay ! parse ! avdec_h264 (one thread) ! fakesink, every camera in one process. keyframes_only:
    an identity drops delta units before the decoder (avdec_h264's skip-frame does nothing for H.264 in 1.22)."""
    parts = []
    drop = ["identity", "drop-buffer-flags=delta-unit", "!"] if keyframes_only else []
    for u in urls:
        parts += ["rtspsrc", f"location={u}", "protocols=tcp", "latency=200", "!", "rtph264depay", "!", "h264parse",
                  "!", *drop, "avdec_h264", "max-threads=1", "!", "fakesink", "sync=false"]
    with open(workdir / ("floor-kf.log" if keyframes_only else "floor.log"), "w") as out:
        proc = subprocess.Popen(["gst-launch-1.0", "-q", *parts], stdout=out, stderr=subprocess.STDOUT)
        try:
            return measure(proc, warmup, window, "decode floor")
        finally:
            stop(proc)


CONTENDERS = ("engine", "floor", "motion", "engine_keyframes", "floor_keyframes", "engine_noclips", "remux",
              "receive")
CLIP_COST = ("engine_noclips", "remux", "receive")


def run_remux(urls, workdir, warmup, window, write=True):
    """The recording path alone, every camera in one process: rtspsrc ! depay ! parse ! mp4mux ! filesink (write),
    or the same up to the parser into a fakesink (the receive cost that the engine's clip writing does not add)."""
    out_dir = workdir / "remux"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir()
    parts = []
    for i, u in enumerate(urls):
        parts += ["rtspsrc", f"location={u}", "protocols=tcp", "latency=200", "!", "rtph264depay", "!", "h264parse",
                  "!"]
        parts += (["mp4mux", "!", "filesink", f"location={out_dir / f'cam{i}.mp4'}"] if write
                  else ["fakesink", "sync=false"])
    with open(workdir / ("remux.log" if write else "receive.log"), "w") as out:
        # -e: SIGINT sends EOS first, so the muxer writes its index as a clip's end would.
        proc = subprocess.Popen(["gst-launch-1.0", "-q", "-e", *parts], stdout=out, stderr=subprocess.STDOUT)
        try:
            m = measure(proc, warmup, window, "remux" if write else "receive")
        finally:
            stop(proc)
    if write:
        m["remux_bytes"] = sum(f.stat().st_size for f in out_dir.glob("*.mp4"))
    shutil.rmtree(out_dir, ignore_errors=True)
    return m


def run_motion(urls, workdir, warmup, window):
    motion = shutil.which("motion")
    if not motion:
        return {"skipped": "the Motion daemon is not installed (apt-get install motion)"}
    conf_dir = workdir / "motion"
    shutil.rmtree(conf_dir, ignore_errors=True)
    conf_dir.mkdir()
    cams = []
    for i, u in enumerate(urls):
        c = conf_dir / f"cam{i}.conf"
        c.write_text(f"camera_id {i + 1}\nnetcam_url {u}\nnetcam_params rtsp_transport=tcp\n"
                     f"movie_passthrough on\nwidth 1280\nheight 720\nframerate {FPS}\n")
        cams.append(f"camera {c}\n")
    main = conf_dir / "motion.conf"
    main.write_text("daemon off\nsetup_mode off\nlog_level 4\nwebcontrol_port 0\nstream_port 0\n"
                    f"target_dir {conf_dir / 'out'}\nmovie_output on\npicture_output off\n"
                    "threshold 1500\nevent_gap 10\n" + "".join(cams))
    with open(workdir / "motion.log", "w") as out:
        proc = subprocess.Popen([motion, "-n", "-c", str(main)], stdout=out, stderr=subprocess.STDOUT)
        try:
            return measure(proc, warmup, window, "motion")
        finally:
            stop(proc)


# ---------------------------------------------------------------- onset latency
LATENCY_LINE = re.compile(r"incident (\S+) latency: first frame arrived (\d+) published (\d+)")
# Frames at 10 fps: an onset every 6.2 s (3.1 s still, the block for 2 s, 1.1 s still). Not a multiple of the
# 20-frame GOP, so in keyframes mode the onsets fall at a different place in the GOP each time (at 60, a multiple
# of 3 GOPs, every onset met its keyframe with the block at the same place, and after 15 onsets the background
# model had learnt it). Even, so every onset's first frame has the same phase against the engine's 5 fps.
ONSET_PERIOD = 62
# The motion settings of the latency phase (--latency-motion). quick: start on the first analysed frame with
# motion, no persistence gate. default: the defaults for everything that decides the start (start_frames 3,
# the gate with gate_persist_s 0.4). persist: the defaults but with the gate's quick path for solid regions off
# (gate_solid_persist_s 0.4): what a region that is not solid waits. All end 1 s after the block leaves, so
# every onset is its own incident.
LATENCY_MOTION = {"quick": "{start_frames: 1, end_seconds: 1, gate: false}", "default": "{end_seconds: 1}",
                  "persist": "{end_seconds: 1, gate_solid_persist_s: 0.4}"}


def iso_ms(text):
    return datetime.fromisoformat(text).timestamp() * 1000.0


def percentile(values, q):
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(-(-q * len(v) // 100)) - 1))
    return v[k]


def pair_onsets(onsets, starts, period_ms):
    """Each start event with the last onset sent before its first frame arrived, one start per onset; a start
    more than one period after its onset is not the onset's (spurious). A start is a dict with recv_ms (the
    subscriber's receipt), arrived_ms (its first frame's arrival at the engine, from the engine's log) and
    published_ms; started_ms is the event's `started_at`."""
    pairs, used = [], set()
    for st in sorted(starts, key=lambda x: x["arrived_ms"]):
        before = [o for o in onsets if o["sent_ms"] <= st["arrived_ms"]]
        if not before:
            continue
        o = before[-1]
        # Keyed by the send time, not the number: the simulator numbers the onsets per RTSP session, so after
        # the engine reconnects the numbers start again.
        if o["sent_ms"] in used or st["arrived_ms"] - o["sent_ms"] > period_ms:
            continue
        used.add(o["sent_ms"])
        pairs.append({"onset": o["number"], "id": st["id"], "sent_ms": o["sent_ms"], "arrived_ms": st["arrived_ms"],
                      "published_ms": st["published_ms"], "recv_ms": st["recv_ms"],
                      "arrival_to_recv_ms": st["recv_ms"] - st["arrived_ms"],
                      "started_to_recv_ms": st["recv_ms"] - st["started_ms"],
                      "sim_to_recv_ms": st["recv_ms"] - o["sent_ms"],
                      "sim_to_arrival_ms": st["arrived_ms"] - o["sent_ms"],
                      "started_at_minus_arrival_ms": st["started_ms"] - st["arrived_ms"]})
    return pairs


def engine_arrivals(log_path):
    """{incident id: (first frame arrived ms, published ms)} from the engine's "latency:" log lines."""
    out = {}
    try:
        text = Path(log_path).read_text(errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        m = LATENCY_LINE.search(line)
        if m:
            out[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    return out


def run_latency(matthan, workdir, onsets_wanted, mode="every_frame", timeout_s=None, motion="quick"):
    """The engine on one test:onsets camera; collects start events until `onsets_wanted` are paired."""
    onset_log = workdir / "onsets.log"
    sim = Simulator(matthan, "test:onsets", 1, workdir,
                    extra=["--onset-log", str(onset_log), "--onset-period", str(ONSET_PERIOD)])
    period_ms = ONSET_PERIOD * 1000 / FPS
    root = workdir / "engine-var-latency"
    shutil.rmtree(root, ignore_errors=True)
    events = f"tcp://127.0.0.1:{free_port()}"
    cfg = workdir / "engine-latency.yaml"
    cfg.write_text(
        "node: bench\n"
        f"storage: {{root: \"{root}\", min_free_bytes: 0}}\n"
        f"events: {{bind: \"{events}\"}}\n"
        "health: {heartbeat_s: 2}\n"
        "defaults:\n"
        "  rtsp_latency_ms: 200\n"
        f"  detect: {{fps: 5, mode: {mode}}}\n"
        f"  motion: {LATENCY_MOTION[motion]}\n"
        "  clip: {pre_roll: 2, post_roll: 1, max_length: 300}\n"
        f"cameras:\n  - id: cam0\n    url: {sim.urls[0]}\n    transport: tcp\n")
    starts, lock = [], threading.Lock()

    def joined_starts():
        """The start events received so far whose first-frame arrival the engine has logged."""
        arrivals = engine_arrivals(workdir / "engine-latency.log")
        with lock:
            return [dict(st, arrived_ms=arrivals[st["id"]][0], published_ms=arrivals[st["id"]][1])
                    for st in starts if st["id"] in arrivals]
    tail = engine = None
    engine_log = open(workdir / "engine-latency.log", "w")
    try:
        engine = subprocess.Popen([str(matthan), "run", "--config", str(cfg), "--trace-latency"], stdout=engine_log,
                                  stderr=subprocess.STDOUT)
        tail = subprocess.Popen([str(matthan), "tail", "--connect", events, "--topic", "incident."],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

        def read():
            for line in tail.stdout:
                recv_ms = time.time() * 1000.0  # stamped as the line arrives: the subscriber's receipt
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if ev.get("phase") == "start":
                    with lock:
                        starts.append({"id": ev["id"], "recv_ms": recv_ms, "started_ms": iso_ms(ev["started_at"])})

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        # The engine's first seconds (connection, the background model's warm-up) may miss the first onset.
        deadline = time.monotonic() + (timeout_s or (onsets_wanted + 4) * period_ms / 1000 + 60)
        pairs, onsets = [], []
        while time.monotonic() < deadline:
            if engine.poll() is not None:
                raise RuntimeError(f"matthan run exited (code {engine.returncode})")
            time.sleep(1)
            onsets = read_onsets(onset_log)
            pairs = pair_onsets(onsets, joined_starts(), period_ms)
            if len(pairs) >= onsets_wanted:
                break
        with lock:
            n_starts = len(starts)
    finally:
        for p in (tail, engine):
            if p is not None:
                stop(p)
        engine_log.close()
        sim.close()
    out = {"onsets_sent": len(onsets), "starts": n_starts, "paired": len(pairs), "wanted": onsets_wanted,
           "period_s": period_ms / 1000, "rtsp_latency_ms": 200, "detect_fps": 5, "detect_mode": mode,
           "motion": motion, "motion_settings": LATENCY_MOTION[motion], "pairs": pairs}
    for key in ("arrival_to_recv_ms", "started_to_recv_ms", "sim_to_recv_ms", "sim_to_arrival_ms",
                "started_at_minus_arrival_ms"):
        vals = [p[key] for p in pairs]
        if vals:
            out[key] = {"p50": percentile(vals, 50), "p95": percentile(vals, 95), "max": max(vals)}
    if len(pairs) < onsets_wanted:
        out["error"] = f"only {len(pairs)} of {onsets_wanted} onsets gave a start event"
    return out


def read_onsets(path):
    out = []
    try:
        for line in Path(path).read_text().splitlines():
            f = line.split()
            if len(f) == 4:
                out.append({"sent_ms": float(f[0]), "mount": f[1], "number": int(f[2]), "frame": int(f[3])})
    except OSError:
        pass
    return out


def latency_table(lat):
    if "arrival_to_recv_ms" not in lat:
        return f"latency: {lat.get('error', 'no figures')}"
    a, b, c = lat["arrival_to_recv_ms"], lat["sim_to_recv_ms"], lat["sim_to_arrival_ms"]
    d, e = lat["started_at_minus_arrival_ms"], lat["started_to_recv_ms"]
    return "\n".join([
        f"| latency over {lat['paired']} onsets, detect.mode {lat['detect_mode']}, motion {lat['motion']} (ms) "
        "| p50 | p95 | max |",
        "|---|---|---|---|",
        f"| (a) frame arrival → `start` received | {a['p50']:.0f} | {a['p95']:.0f} | {a['max']:.0f} |",
        f"| (a) counted from the event's `started_at` instead | {e['p50']:.0f} | {e['p95']:.0f} | {e['max']:.0f} |",
        f"| (b) simulator send → `start` received | {b['p50']:.0f} | {b['p95']:.0f} | {b['max']:.0f} |",
        f"| simulator send → frame arrival | {c['p50']:.0f} | {c['p95']:.0f} | {c['max']:.0f} |",
        f"| event `started_at` − frame arrival | {d['p50']:.0f} | {d['p95']:.0f} | {d['max']:.0f} |"])


# ---------------------------------------------------------------- report
def per_cam_second(m, n):
    if "cpu_s" not in m or m["wall_s"] <= 0:
        return None
    return m["cpu_s"] / (n * m["wall_s"])


def ratio(a, b):
    return None if a is None or not b else a / b


def fmt(v, spec="{:.4f}"):
    return "—" if v is None else spec.format(v)


def table(results):
    lines = [
        "| content | cameras | engine CPU-s per cam-s | floor | engine ÷ floor | Motion | engine ÷ Motion "
        "| sim CPU-s per cam-s | RSS per cam (MB) | threads | analysed fps per cam | dropped % "
        "| engine keyframes | keyframe floor | keyframes ÷ kf floor | kf analysed fps per cam |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        n = r["cameras"]
        e, f, mo = r["engine"].get("per_cam_s"), r["floor"].get("per_cam_s"), r["motion"].get("per_cam_s")
        rss = r["engine"].get("rss_bytes")
        fps = (r["engine"]["frames_analysed"] / n / max(1e-9, r["engine"].get("run_s", 1))
               if "frames_analysed" in r["engine"] else None)
        ekf, fkf = r.get("engine_keyframes", {}), r.get("floor_keyframes", {})
        ek, fk = ekf.get("per_cam_s"), fkf.get("per_cam_s")
        kfps = ekf["frames_analysed"] / n / max(1e-9, ekf.get("run_s", 1)) if "frames_analysed" in ekf else None
        lines.append(
            f"| {r['content']} | {n} | {fmt(e)} | {fmt(f)} | {fmt(ratio(e, f), '{:.2f}')} | "
            f"{fmt(mo) if mo is not None else r['motion'].get('skipped', '—')[:24]} | {fmt(ratio(e, mo), '{:.2f}')} | "
            f"{fmt(r['sim'].get('per_cam_s'))} | {fmt(rss / n / 1e6 if rss else None, '{:.1f}')} | "
            f"{r['engine'].get('threads', '—')} | {fmt(fps, '{:.2f}')} | "
            f"{fmt(r['engine'].get('dropped_pct'), '{:.2f}')} | "
            f"{fmt(ek)} | {fmt(fk)} | {fmt(ratio(ek, fk), '{:.2f}')} | {fmt(kfps, '{:.2f}')} |")
    return "\n".join(lines)


ENGINES = ("engine", "engine_keyframes", "engine_noclips")


def engine_table(results):
    """One row per engine run: analysis, drops, cameras, memory over the window (sampled every --rss-every s)."""
    lines = [
        "| content | cameras | engine run | CPU-s per cam-s | analysed fps per cam | dropped % "
        "| cameras streaming / analysing | frames analysed per cam min / max "
        "| reconnects | stalls | RSS per cam (MB) | RSS first / last / max (MB) | RSS slope (MB/min) | clips (files, MB) "
        "| object detector calls per cam-min | ms per call |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        n = r["cameras"]
        for name in ENGINES:
            m = r.get(name, {})
            if "cpu_s" not in m:
                continue
            fps = m.get("frames_analysed", 0) / n / max(1e-9, m.get("run_s", 1))
            lines.append(
                f"| {r['content']} | {n} | {name} | {fmt(m.get('per_cam_s'))} | {fps:.2f} | "
                f"{fmt(m.get('dropped_pct'), '{:.2f}')} | {m.get('cameras_streaming', '—')} / "
                f"{m.get('cameras_analysing', '—')} | {m.get('analysed_min', '—')} / {m.get('analysed_max', '—')} | "
                f"{m.get('reconnects', '—')} | {m.get('stalls', '—')} | {m['rss_bytes'] / n / 1e6:.1f} | "
                f"{fmt(m.get('rss_first_mb'), '{:.0f}')} / {fmt(m.get('rss_last_mb'), '{:.0f}')} / "
                f"{fmt(m.get('rss_max_mb'), '{:.0f}')} | {fmt(m.get('rss_slope_mb_per_min'), '{:+.2f}')} | "
                f"{m.get('clip_files', '—')}, {m.get('clip_bytes', 0) / 1e6:.1f} | "
                f"{fmt(m.get('detector_calls_per_cam_min'), '{:.1f}')} | {fmt(m.get('detector_ms_per_call'), '{:.1f}')} |")
    return "\n".join(lines)


def clip_cost_table(results):
    """What writing clips costs the engine (clips on − clips off), against what recording alone costs a plain
    GStreamer recorder (remux − receive), per camera-second."""
    lines = [
        "| content | cameras | engine, clips on | engine, clips off | clip cost (on − off) | incidents | clips (files, MB) "
        "| remux only | receive only | remux cost (remux − receive) | remux MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        n = r["cameras"]
        on, off = r.get("engine", {}), r.get("engine_noclips", {})
        rx, rc = r.get("remux", {}), r.get("receive", {})
        eon, eoff, erx, erc = (m.get("per_cam_s") for m in (on, off, rx, rc))
        diff = lambda x, y: None if x is None or y is None else x - y  # noqa: E731
        lines.append(
            f"| {r['content']} | {n} | {fmt(eon)} | {fmt(eoff)} | {fmt(diff(eon, eoff))} | "
            f"{on.get('incidents', '—')} / {off.get('incidents', '—')} | "
            f"{on.get('clip_files', '—')}, {on.get('clip_bytes', 0) / 1e6:.1f} | {fmt(erx)} | {fmt(erc)} | "
            f"{fmt(diff(erx, erc))} | {rx.get('remux_bytes', 0) / 1e6:.1f} |")
    return "\n".join(lines)


OBJECTS = None
RECHECK_S = None  # detect.objects.recheck_s written into the engine configs; None: the engine default
SHARED_MODEL = Path(__file__).resolve().parents[3] / "shared" / "models" / "yolo-fastest-1.1"


def model_files(d):
    """A model folder's .cfg and .weights: the pair named after the folder if there is one, else the first."""
    named = d / f"{d.name}.cfg", d / f"{d.name}.weights"
    if named[0].exists() and named[1].exists():
        return named
    return next(d.glob("*.cfg")), next(d.glob("*.weights"))


def resolve_objects(choice):
    if choice == "none":
        return None
    if choice == "hog":
        return "hog"
    if choice == "auto":
        return str(SHARED_MODEL) if (SHARED_MODEL / "coco.names").exists() else "hog"
    d = Path(choice).resolve()
    if not (list(d.glob("*.cfg")) and list(d.glob("*.weights")) and (d / "coco.names").exists()):
        sys.exit(f"--objects {choice}: not a Darknet model folder (*.cfg, *.weights and coco.names)")
    return str(d)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="the build folder holding tools/matthan")
    ap.add_argument("--cameras", default="1,16", help="comma-separated camera counts")
    ap.add_argument("--content", default="busy,empty", help="busy (vtest) and/or empty (a still scene)")
    ap.add_argument("--window", type=float, default=60, help="measured seconds per contender")
    ap.add_argument("--warmup", type=float, default=15, help="seconds before the window")
    ap.add_argument("--out", default=None, help="results folder (default <build>/bench-results)")
    ap.add_argument("--cache", default=None, help="encoded inputs (default <build>/bench-cache)")
    ap.add_argument("--no-peer", action="store_true", help="skip the Motion daemon")
    ap.add_argument("--no-keyframes", action="store_true",
                    help="skip the engine in detect.mode keyframes and the keyframe-only decode floor")
    ap.add_argument("--latency-onsets", type=int, default=20,
                    help="scripted motion onsets to measure alert latency over (0: skip the latency phase)")
    ap.add_argument("--latency-mode", default="every_frame", choices=("every_frame", "keyframes"),
                    help="the engine's detect.mode in the latency phase")
    ap.add_argument("--latency-motion", default="quick", choices=tuple(LATENCY_MOTION),
                    help="quick: start on the first analysed frame with motion, no gate; default: the default "
                         "start_frames and persistence gate; persist: the defaults with the gate's quick path for "
                         "solid regions off (gate_solid_persist_s 0.4)")
    ap.add_argument("--only", default=None,
                    help=f"comma-separated contenders to run, of {', '.join(CONTENDERS)} (keyframes: "
                         "engine_keyframes); the others are skipped")
    ap.add_argument("--clip-cost", action="store_true",
                    help="also run the engine with clips off (a mask over the whole picture), the remux-only "
                         "recorder and the receive-only client: the clip-cost table")
    ap.add_argument("--rss-every", type=float, default=15, help="seconds between RSS samples in a window")
    ap.add_argument("--objects", default="auto",
                    help="object detection in the engine runs: auto (the yolo-fastest-1.1 model of ../shared if "
                         "present, else hog), hog (OpenCV's built-in people detector), none, or a Darknet model "
                         "folder (*.cfg, *.weights, coco.names)")
    ap.add_argument("--recheck-s", type=float, default=None,
                    help="detect.objects.recheck_s for the engine runs (not given: the engine's default, 1; "
                         "0: every analysed frame with motion goes to the detector)")
    ap.add_argument("--engine-cpus", default=None,
                    help="run the engine under `taskset -c LIST` (e.g. 1): starve it on purpose to study overload "
                         "with fewer cameras (the simulator and the floors are not pinned)")
    a = ap.parse_args()
    global RSS_EVERY, OBJECTS, RECHECK_S, ENGINE_CPUS
    RECHECK_S = a.recheck_s
    RSS_EVERY = a.rss_every
    ENGINE_CPUS = a.engine_cpus
    OBJECTS = resolve_objects(a.objects)
    log(f"object detection: {OBJECTS or 'off'}")
    only = None
    if a.only:
        only = {("engine_keyframes" if c == "keyframes" else c) for c in a.only.split(",") if c}
        unknown = only - set(CONTENDERS)
        if unknown:
            sys.exit(f"unknown contender(s) {', '.join(sorted(unknown))}: {', '.join(CONTENDERS)}")

    build = Path(a.build).resolve()
    matthan = build / "tools" / "matthan"
    if not matthan.exists():
        sys.exit(f"no {matthan}: build first (bash scripts/build.sh)")
    out = Path(a.out) if a.out else build / "bench-results"
    out.mkdir(parents=True, exist_ok=True)
    content = prepare_content(Path(a.cache) if a.cache else build / "bench-cache")
    counts = [int(c) for c in a.cameras.split(",") if c]
    kinds = [k for k in a.content.split(",") if k]
    for k in kinds:
        if k not in content:
            sys.exit(f"unknown content {k!r}: busy or empty")

    results, ok = [], True
    for kind in kinds:
        for n in counts:
            work = Path(tempfile.mkdtemp(prefix=f"matthan-bench-{kind}-{n}-"))
            log(f"{kind}, {n} camera(s): simulator up")
            sim = Simulator(matthan, content[kind], n, work)
            r = {"content": kind, "cameras": n, "window_s": a.window, "warmup_s": a.warmup,
                 "loadavg_start": os.getloadavg()}
            urls, w, win = sim.urls, a.warmup, a.window
            still = kind == "empty"
            runs = {"engine": lambda: run_engine(matthan, urls, work, w, win, still=still),
                    "floor": lambda: run_floor(urls, work, w, win),
                    "motion": lambda: run_motion(urls, work, w, win),
                    "engine_keyframes": lambda: run_engine(matthan, urls, work, w, win, "keyframes"),
                    "floor_keyframes": lambda: run_floor(urls, work, w, win, keyframes_only=True),
                    "engine_noclips": lambda: run_engine(matthan, urls, work, w, win, clips=False, still=still),
                    "remux": lambda: run_remux(urls, work, w, win),
                    "receive": lambda: run_remux(urls, work, w, win, write=False)}

            def skip_reason(name):
                if only is not None and name not in only:
                    return "--only"
                if name == "motion" and a.no_peer:
                    return "--no-peer"
                if name in ("engine_keyframes", "floor_keyframes") and a.no_keyframes:
                    return "--no-keyframes"
                if name in CLIP_COST and not a.clip_cost and (only is None or name not in only):
                    return "no --clip-cost"
                return None
            try:
                sim_c0, sim_t0 = cpu_seconds(sim.proc.pid), time.monotonic()
                for name in CONTENDERS:
                    if skip_reason(name):
                        r[name] = {"skipped": skip_reason(name)}
                        continue
                    log(f"{kind}, {n} camera(s): {name}")
                    try:
                        m = runs[name]()
                    except Exception as e:  # one contender failing is reported; the rest still run
                        m = {"error": str(e)}
                        ok = False
                    m["run_s"] = a.warmup + a.window
                    if "cpu_s" in m:
                        m["per_cam_s"] = per_cam_second(m, n)
                    r[name] = m
                    log(f"  {name}: {json.dumps({k: v for k, v in m.items() if k not in ('run_s', 'rss_samples')})[:400]}")
                sim_cpu, sim_wall = cpu_seconds(sim.proc.pid) - sim_c0, time.monotonic() - sim_t0
                r["sim"] = {"cpu_s": sim_cpu, "per_cam_s": sim_cpu / (n * sim_wall), "cores": sim_cpu / sim_wall}
                r["loadavg_end"] = os.getloadavg()
                for name in ENGINES:
                    if "frames_analysed" in r[name] and r[name]["cameras_streaming"] < n:
                        r[name]["error"] = f"only {r[name]['cameras_streaming']} of {n} cameras were streaming"
                        ok = False
                    elif "frames_analysed" in r[name] and r[name]["cameras_analysing"] < n:
                        r[name]["error"] = (f"all {n} cameras streamed, but only {r[name]['cameras_analysing']} "
                                            "analysed a frame (the rest had every frame dropped)")
                        ok = False
            finally:
                sim.close()
            r["workdir"] = str(work)
            results.append(r)

    latency = {"skipped": "--latency-onsets 0"}
    if a.latency_onsets > 0:
        work = Path(tempfile.mkdtemp(prefix="matthan-bench-latency-"))
        log(f"latency: {a.latency_onsets} onsets, one every {ONSET_PERIOD / FPS:.1f} s, motion {a.latency_motion}")
        lat_load = os.getloadavg()
        try:
            latency = run_latency(matthan, work, a.latency_onsets, a.latency_mode, motion=a.latency_motion)
        except Exception as e:
            latency = {"error": str(e)}
        latency["workdir"] = str(work)
        latency["loadavg_start"], latency["loadavg_end"] = lat_load, os.getloadavg()
        if "error" in latency:
            ok = False
        log(f"  latency: {json.dumps({k: v for k, v in latency.items() if k != 'pairs'})[:400]}")

    doc = {"host": os.uname().nodename, "cores": os.cpu_count(), "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "input": {"size": "1280x720", "fps": FPS, "gop": GOP, "codec": "h264 high"},
           "engine_settings": {"detect": "the camera's size at 5 fps (engine_keyframes: detect.mode keyframes)",
                               "objects": OBJECTS or "off", "recheck_s": "default" if RECHECK_S is None else RECHECK_S, "transport": "tcp",
                               "engine_cpus": ENGINE_CPUS}, "results": results, "latency": latency}
    (out / "results.json").write_text(json.dumps(doc, indent=2))
    md = (table(results) + "\n\n" + engine_table(results)) if results else ""
    if any("skipped" not in r.get(c, {"skipped": 1}) for r in results for c in CLIP_COST):
        md += "\n\n" + clip_cost_table(results)
    if a.latency_onsets > 0:
        md += ("\n\n" if md else "") + latency_table(latency)
    (out / "results.md").write_text(md + "\n")
    print(md)
    for r in results:
        for name in CONTENDERS:
            if "error" in r.get(name, {}):
                print(f"{r['content']}/{r['cameras']} {name}: {r[name]['error']}", file=sys.stderr)
    if "error" in latency:
        print(f"latency: {latency['error']}", file=sys.stderr)
    log(f"wrote {out / 'results.json'} and {out / 'results.md'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
