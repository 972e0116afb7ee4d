"""Issue 12q's per-state look (training subjects only): why the stand-to-sit model (class 7)
collects still frames and sit-to-stand (class 8) does not. Inside one outer fold's training
part of one partition, the benchmark's HHMM is trained on one half of the subjects (the inner
CV's halves) and read on the other half's still frames (HAPT 4 sitting, 5 standing).

    nice -n 10 python3 -m benchmarks.spotting_state_check --partition-seed 1 --fold 2

Per state of classes 7 and 8: its expected duration (frames), the frames a match may gain
there (``max_stay`` x duration), the median per-frame log-likelihood ratio against the null
model on sitting / standing frames, and ``gain``: what a match could gather from still frames
alone, the sum over states of the frames it may gain times the positive part of that median,
as a fraction of the class's typical score (a match is a candidate from ``threshold`` x it).
Descriptive only: nothing is chosen from it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import gesturemap as gm
from benchmarks.spotting_hapt import hhmm
from benchmarks.spotting_null_check import fold_args, fold_sessions
from gesturemap.evaluation.spotting.cv import grouped_folds, make_dataset


def main() -> None:
    args = fold_args(__doc__, "docs/spotting_runs/null_cover_states_p1f2.json")
    st, train, _ = fold_sessions(args.partition_seed, args.fold)
    fit_on, read_on = (train[h] for h in grouped_folds(st.subject[train], 2))
    sp = gm.Spotter(hhmm().fit(make_dataset(st, fit_on, lambda x: x)))
    out: dict = {"partition_seed": args.partition_seed, "fold": args.fold,
                 "fit_sessions": fit_on.tolist(), "read_sessions": read_on.tolist()}
    for label in ("7", "8"):
        ci = [str(lb) for lb in sp.labels].index(label)
        n = int(sp._b["n_states"][ci])
        stay = sp._max_stay[ci, :n]
        lt = sp._b["log_trans"][ci]
        dur = 1.0 / (1.0 - np.exp(np.diag(lt)[:n]))
        res: dict = {"typical": round(float(sp.typical_scores_[ci]), 1),
                     "expected_frames": round(float(sp.expected_frames_[ci]), 1),
                     "state_frames": dur.round(1).tolist(), "max_stay_frames": stay.tolist()}
        for act, name in ((4, "sitting"), (5, "standing")):
            x = np.vstack([st.sessions[i][st.labels[i] == act] for i in read_on])
            med = np.array([np.median(sp._frame_llr(x, ci, j)) for j in range(n)])
            res[name] = {"median_llr": med.round(2).tolist(),
                         "gain": round(float(np.sum(stay * np.maximum(med, 0.0))
                                             / sp.typical_scores_[ci]), 3)}
        out[label] = res
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
