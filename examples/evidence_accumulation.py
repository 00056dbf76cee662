"""Bellec's evidence-accumulation task with either e-prop family (eprop.evidence_training).

    python3 examples/evidence_accumulation.py                    # NEST's example, baseline models
    python3 examples/evidence_accumulation.py --family event     # event-driven models
    python3 examples/evidence_accumulation.py --iterations 10 --batch-size 8

With ``--family baseline`` this is NEST's
``eprop_supervised_classification_evidence-accumulation_bsshslm_2020.py``: same weights, inputs
and protocol, and the same loss and accuracy in every iteration (compared with the result NEST
3.10 recorded here, Tests/Fixtures/nest/bsshslm/evidence_example_result.json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from eprop.evidence_training import train  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "nest", "bsshslm",
                       "evidence_example_result.json")


def main(argv=None):
    parser = argparse.ArgumentParser(description="evidence accumulation with eprop")
    parser.add_argument("--family", choices=("baseline", "event"), default="baseline")
    parser.add_argument("--iterations", type=int, default=50, help="training iterations (example: 50)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    args = parser.parse_args(argv)
    run = train(args.family, n_iter_train=args.iterations, batch_size=args.batch_size, threads=args.threads)
    print(f"test accuracy {run.test_accuracy:.4f}; {len(run.rows)} iterations, {run.simulated_ms / 1000:.1f} s "
          f"simulated in {run.wall_s:.1f} s; estimated energy {run.energy_j * 1e3:.2f} mJ")
    if args.family == "baseline" and args.iterations == 50 and args.batch_size == 32 and os.path.exists(FIXTURE):
        nest = json.load(open(FIXTURE, encoding="utf-8"))
        same = len(nest["rows"]) == len(run.rows) and all(
            abs(a["loss"] - b["loss"]) <= 1e-8 * abs(b["loss"]) and a["accuracy"] == b["accuracy"]
            for a, b in zip(run.rows, nest["rows"]))
        print(f"NEST 3.10: test accuracy {nest['final_test_accuracy_mean']:.4f} in {nest['wall_time_total_s']:.0f} s; "
              f"every iteration's loss and accuracy {'identical' if same else 'DIFFERENT'}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(dict(rows=run.rows, test_accuracy=run.test_accuracy, counters=run.counters, wall_s=run.wall_s), f,
                      indent=1)


if __name__ == "__main__":
    main()
