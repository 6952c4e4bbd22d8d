"""manage.py estimate_match_weights [--people N] [--seed S] [--write]: estimate the
Fellegi–Sunter m/u probabilities and thresholds from labelled synthetic data."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from registry.resolution import evaluation, synthetic, weights


class Command(BaseCommand):
    help = "Estimate match weights (m/u per comparison level) and thresholds from synthetic ground truth."

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=4000)
        parser.add_argument("--seed", type=int, default=11)
        parser.add_argument("--write", action="store_true", help=f"Write {weights.WEIGHTS_FILE.name}.")

    def handle(self, *args, **options):
        base = json.loads(weights.WEIGHTS_FILE.read_text(encoding="utf-8"))
        records = synthetic.generate(options["people"], seed=options["seed"])
        truth = synthetic.true_pairs(records)
        data = evaluation.estimate(records, truth, base)
        scores = evaluation.scored_pairs(records, weights.parse(data))
        possible, best = evaluation.best_threshold(scores, truth)
        probable = max(evaluation.precise_threshold(scores, truth, floor=possible), 0.9)
        data["thresholds"] = {"possible": possible, "probable": probable}
        data["version"] = f"synthetic-{options['people']}-seed{options['seed']}"
        data["method"] = ("Fellegi-Sunter m/u per level counted on blocked pairs of bench synthetic data "
                          "(registry.resolution.synthetic) with Laplace smoothing 0.5; possible = best-F1 threshold; probable = lowest threshold with precision >= 0.995, at least 0.9")
        self.stdout.write(f"blocked pairs: {data['estimated_pairs']}; true pairs: {len(truth)}")
        self.stdout.write(f"probable from {probable}; best F1 {best['f1']:.4f} at {possible} (precision {best['precision']:.4f}, "
                          f"recall {best['recall']:.4f})")
        if options["write"]:
            weights.WEIGHTS_FILE.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            weights.current.cache_clear()
            self.stdout.write(f"written {weights.WEIGHTS_FILE}")
