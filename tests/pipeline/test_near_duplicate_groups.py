"""Near-duplicate clustering (MinHash/LSH) and the template-grouped cross-validation built on it."""

from __future__ import annotations

import random
import time

import numpy as np

from features.near_duplicates import cluster_ids, cluster_sizes, method_name, minhash_signatures, shingles
from fixture_sites import load_ads
from pipeline.folds import make_folds, template_groups
from pipeline.training_data import Example
from warehouse.records import ad_text

LURE = (
    "Darbs Norvēģijā zivju pārstrādes rūpnīcā jaunām meitenēm 18-25 gadi. Pieredze nav nepieciešama, valodas "
    "zināšanas nav obligātas. Pelni līdz {pay} EUR mēnesī, bezmaksas dzīvesvieta un ceļa izdevumi tiek apmaksāti. "
    "Izbraukšana jau nākamnedēļ, vietu skaits ierobežots. Raksti tikai WhatsApp {phone}."
)
ORDINARY = (
    "SIA Alfa meklē noliktavas darbinieku preču pieņemšanai un komplektēšanai Rīgā. Darbs maiņās pēc grafika, "
    "nepieciešama pieredze un B kategorijas tiesības. Atalgojums 1300 EUR mēnesī bruto. CV sūtiet uz cv@alfa.lv"
)


def test_reposted_template_with_other_numbers_is_one_cluster() -> None:
    """Copies of a template that differ only in phone number and pay fall in one cluster; other ads do not."""
    texts = [
        ORDINARY,
        LURE.format(pay=3000, phone="+371 29 000 111"),
        LURE.format(pay=3500, phone="+371 26 123 456"),
        LURE.format(pay=4000, phone="+370 612 34567"),
        "",
    ]
    clusters = cluster_ids(texts, keys=[10, 11, 12, 13, 14])
    assert clusters.tolist() == [10, 11, 11, 11, 14]
    assert cluster_sizes(clusters).tolist() == [1, 3, 3, 3, 1]
    assert method_name().startswith("minhash-lsh:")


def test_empty_and_short_texts_stay_singletons() -> None:
    """Texts without shingles never join each other (an empty body is not a template)."""
    clusters = cluster_ids(["", "", "hi", "", "hi"])
    assert clusters.tolist() == [0, 1, 2, 3, 2]
    assert cluster_ids(["", ""]).tolist() == [0, 1]
    assert shingles("Work now") == ["work", "now"]


def test_signatures_are_deterministic_across_calls() -> None:
    """The same texts give the same signatures, so ad_clusters rows are reproducible."""
    texts = [LURE.format(pay=1, phone="1"), ORDINARY]
    first, _ = minhash_signatures(texts)
    second, _ = minhash_signatures(list(reversed(texts)))
    np.testing.assert_array_equal(first, second[::-1])


def test_clustering_scales_linearly_enough_for_large_crawls() -> None:
    """5,000 varied ads cluster in a few CPU-seconds (100k in well under a minute) and templates are found. The
    bound is on this process's CPU time, not the wall clock, and generous (3x the few seconds it takes): a loaded
    machine cannot fail it, an all-pairs comparison (12.5M pairs) would."""
    rng = random.Random(1)
    words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=6)) for _ in range(3000)]
    texts = [" ".join(rng.choices(words, k=120)) for _ in range(4000)]
    texts += [LURE.format(pay=rng.randint(1000, 9000), phone=str(rng.randint(10**7, 10**8))) for _ in range(1000)]
    started = time.process_time()
    clusters = cluster_ids(texts)
    cpu_s = time.process_time() - started
    assert cpu_s < 30.0, f"clustering 5,000 ads took {cpu_s:.1f} CPU-seconds"
    assert len(set(clusters[4000:].tolist())) == 1
    assert len(set(clusters[:4000].tolist())) == 4000


def test_grouped_folds_keep_every_near_duplicate_group_on_one_side() -> None:
    """No near-duplicate cluster or known fixture template appears in both the training and the test part."""
    ads = load_ads()
    texts = [ad_text(a["title"], a["body"]) for a in ads]
    # add verbatim re-posts so that clusters span several ads
    texts += texts[:40]
    templates = [a["template"] for a in ads] + [a["template"] for a in ads[:40]]
    labels = np.array([a["label"] for a in ads] + [a["label"] for a in ads[:40]])
    groups = template_groups(texts, templates)
    near_dups = cluster_ids(texts, 0.5)
    for train_idx, test_idx in make_folds(labels, groups, "grouped", 5, seed=1):
        assert not set(groups[train_idx]) & set(groups[test_idx])
        assert not set(near_dups[train_idx]) & set(near_dups[test_idx])
        assert not {templates[i] for i in train_idx} & {templates[i] for i in test_idx}
        assert 0 < labels[test_idx].sum() < len(test_idx)


def test_stratified_folds_do_leak_templates_which_is_why_grouped_exists() -> None:
    """A plain stratified split of the same data does put copies on both sides (the leak grouped CV removes)."""
    ads = load_ads()
    texts = [ad_text(a["title"], a["body"]) for a in ads] * 2
    labels = np.array([a["label"] for a in ads] * 2)
    groups = template_groups(texts)
    leaked = sum(
        len(set(groups[tr]) & set(groups[te])) for tr, te in make_folds(labels, groups, "stratified", 5, seed=1)
    )
    assert leaked > 0
    assert Example("x", 0, "fixture").group is None
