"""The learning loop works (issue 13, item 6): analysts decide ads of a language the model gets wrong, the model is
retrained the way `lurewatch train` reads its data (:func:`pipeline.training_set.assemble`), and it gets better on
*other* ads of that language, ads nobody labelled.

The warehouse is the fixture's (all 371 ads crawled, the train split seeded, as `lurewatch demo` leaves it) plus
Estonian ads written here, crawled from one more board and undecided. The current model (trained on the seeded
labels) gets these Estonian ads wrong: it ranks them well (the lexicons see the lure phrases), but puts 3 of the 10
held-out lures below an even chance. The Estonian ads are split into ads an analyst decides (true labels, as the
analyst would give them) and held-out ads, written from disjoint halves of every phrase bank: no held-out ad shares a
sentence with, or is a near-duplicate (the grouping of cross-validation) of, a decided one, and none is ever
labelled. The model is retrained as `lurewatch train --no-emscad` reads its data (the analyst evaluation sample
keeps 1 in 5 clusters of the decided ads out: 20 of 25 are trained on). Fixed seeds throughout.

Measured on the 25 held-out Estonian ads (10 lures), current model -> retrained, uncalibrated lure probability:
mean log-loss 0.236 -> 0.009, ads on the wrong side of 0.5: 3 -> 0, PR-AUC 1.000 -> 1.000. Asserted: the log-loss
at most halves (:data:`LOG_LOSS_RATIO`), fewer ads on the wrong side, PR-AUC no worse.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
from scipy.special import expit
from sklearn.metrics import average_precision_score, log_loss

from features import FeatureExtractor
from features.near_duplicates import cluster_ids
from pipeline.cross_ad_features import compute_cross_ad_features, cross_ad_vectors
from pipeline.feature_store import extract_pending
from pipeline.folds import GROUPING_THRESHOLD
from pipeline.scoring_model import ScoringModel
from pipeline.train import train
from pipeline.training_set import assemble
from warehouse import session
from warehouse.ads import upsert_ads
from warehouse.records import AdRow, ad_text

SEED = 11
BOARD = "et-board"
LOG_LOSS_RATIO = 0.5  # the retrained model's mean log-loss on the held-out Estonian ads: at most half the current one

# Estonian lures: an opening, two conditions, a contact instruction (first half of each bank: decided ads; second
# half: held-out ads).
LURE_OPENINGS = [
    "Otsime noori naisi tööle välismaale.",
    "Kiire teenistus Soomes, kogemus pole vajalik.",
    "Pakume tööd hostessina Dubais.",
    "Modellide casting Milanos, vanus 18-25.",
    "Lihtne töö Saksamaal, palk kohe kätte.",
    "Tule tööle Norrasse, keeleoskust ei nõuta.",
    "Võimalus teenida 4000 eurot kuus välismaal.",
    "Noored tüdrukud, töö ööklubis Londonis.",
]
LURE_TERMS = [
    "Lennupiletid ja majutus tasume meie.",
    "Palk sularahas iga nädal.",
    "Dokumentide vormistamise tasu ainult 150 eurot.",
    "Saada oma foto ja passi koopia.",
    "Elamine tasuta, transport lennujaamast.",
    "Ettemaks viisa eest 200 eurot.",
    "Lepingut pole vaja, alustame kohe.",
    "Ainult ilusad ja saledad tüdrukud.",
]
LURE_CONTACTS = [
    "Kirjuta WhatsAppi +372 5555 1234.",
    "Võta ühendust Telegramis @tood_valismaal.",
    "Helista kohe +372 5123 4567, ainult sõnumid.",
    "Kirjuta Viberisse +48 600 100 200.",
    "Saada sõnum Telegrami, kiire vastus.",
    "Vastame ainult WhatsAppis.",
]
# Ordinary Estonian job ads: an opening, a requirement, the conditions, how to apply.
JOB_OPENINGS = [
    "Tallinna logistikakeskus otsib laotöötajat.",
    "Tartu lasteaed ootab oma meeskonda õpetaja abi.",
    "Pärnu hotell võtab tööle administraatori.",
    "Otsime raamatupidajat täiskohaga töösuhtesse.",
    "Ehitusettevõte otsib kogenud elektrikut.",
    "Kohvik Viljandis otsib kokka.",
    "IT-ettevõte otsib nooremarendajat Pythoni oskusega.",
    "Kauplus otsib müüjat-klienditeenindajat.",
]
JOB_NEEDS = [
    "Nõutav eelnev töökogemus vähemalt kaks aastat.",
    "Eesti keele oskus kõnes ja kirjas.",
    "Kasuks tulevad B-kategooria juhiload.",
    "Ootame kohusetundlikku ja täpset inimest.",
    "Vajalik kehtiv kutsetunnistus.",
    "Väljaõpe toimub kohapeal.",
]
JOB_TERMS = [
    "Pakume tähtajatut töölepingut ja palka 1400-1700 eurot bruto.",
    "Töö vahetustega, tasuta parkimine ja sportimiskompensatsioon.",
    "Tööaeg E-R 8-17, lõunapaus on tasustatud.",
    "Ametlik palk, puhkusetasu ja tervisekindlustus.",
    "Töö algusega 1. märtsil.",
    "Palk vastavalt kogemustele, lisaks tulemustasu.",
]
JOB_APPLY = [
    "CV saata e-postile personal@ettevote.ee.",
    "Kandideeri CV Keskuse kaudu 15. veebruariks.",
    "Lisainfo telefonil 627 1234.",
    "Kandideerimiseks saada CV ja motivatsioonikiri.",
    "Küsimuste korral helista personalijuhile.",
    "Kandideerimise tähtaeg on 28.02.",
]


def _half(bank: list[str], decided: bool) -> list[str]:
    """The first half of a phrase bank is written into decided ads, the second into held-out ones."""
    middle = len(bank) // 2
    return bank[:middle] if decided else bank[middle:]


def estonian_ads() -> list[dict[str, object]]:
    """Ten lures and fifteen ordinary ads per side, each a different combination (fixed seed). The decided and the
    held-out ads are written from disjoint halves of every phrase bank: no sentence is shared across the split."""
    rng = random.Random(SEED)
    ads: list[dict[str, object]] = []
    for decided in (True, False):
        openings, terms, contacts = (_half(b, decided) for b in (LURE_OPENINGS, LURE_TERMS, LURE_CONTACTS))
        for n in range(10):
            body = " ".join([openings[n % len(openings)], *rng.sample(terms, 2), rng.choice(contacts)])
            ads.append({"title": openings[n % len(openings)].split(",")[0].rstrip("."), "body": body, "label": 1,
                        "decided": decided})
        openings, needs, conditions, apply = (_half(b, decided) for b in (JOB_OPENINGS, JOB_NEEDS, JOB_TERMS,
                                                                           JOB_APPLY))
        for n in range(15):
            opening = openings[n % len(openings)]
            body = " ".join([opening, rng.choice(needs), rng.choice(conditions), rng.choice(apply)])
            ads.append({"title": opening.rstrip("."), "body": body, "label": 0, "decided": decided})
    for i, ad in enumerate(ads):
        ad["ref"] = f"et-{i:03d}"
    return ads


def _train(db: Path, extractor: FeatureExtractor) -> ScoringModel:
    """What `lurewatch train --no-emscad` fits: the warehouse's labels as assemble() splits them."""
    with session(db) as con:
        data = assemble(con, None)
    return train(data.examples, extractor, seed=SEED, folds=2, schemes=("grouped",), review_budget=20)


def _held_out_scores(db: Path, model: ScoringModel, refs: list[str]) -> np.ndarray:
    """Uncalibrated lure probabilities of the held-out ads, from their stored features as scoring reads them."""
    with session(db) as con:
        rows = con.execute(
            "SELECT a.ad_id, a.external_id, a.title, a.body, f.vector FROM ads a JOIN features f USING (ad_id) "
            "WHERE a.site_id = ? AND a.external_id IN (SELECT unnest(?::VARCHAR[]))", [BOARD, refs]
        ).fetchall()
        cross = cross_ad_vectors(con, [int(r[0]) for r in rows])
    by_ref = {str(r[1]): r for r in rows}
    texts = [ad_text(by_ref[ref][2], by_ref[ref][3]) for ref in refs]
    vectors = [{**json.loads(by_ref[ref][4]), **cross[int(by_ref[ref][0])]} for ref in refs]
    return np.asarray(expit(model.raw_scores(model.design(texts, vectors))))


def test_deciding_ads_of_a_weak_language_improves_the_model_on_other_ads_of_it(
    fixture_warehouse: Path, extractor: FeatureExtractor, tmp_path: Path
) -> None:
    db = tmp_path / "lw.duckdb"
    shutil.copy(fixture_warehouse, db)
    ads = estonian_ads()
    with session(db) as con:
        upsert_ads(con, [AdRow(BOARD, f"http://127.0.0.1/{BOARD}/{a['ref']}", str(a["title"]), str(a["body"]),
                               external_id=str(a["ref"])) for a in ads], run_id=None)
        extract_pending(con, extractor)
        compute_cross_ad_features(con)
    decided = [a for a in ads if a["decided"]]
    held = [a for a in ads if not a["decided"]]
    # honest split: no held-out ad shares a near-duplicate cluster with a decided one
    texts = [ad_text(str(a["title"]), str(a["body"])) for a in decided + held]
    clusters = cluster_ids(texts, GROUPING_THRESHOLD).tolist()
    assert not set(clusters[: len(decided)]) & set(clusters[len(decided):])
    refs = [str(a["ref"]) for a in held]
    labels = np.array([a["label"] for a in held])

    before = _train(db, extractor)
    p_before = _held_out_scores(db, before, refs)
    with session(db) as con:  # the analyst decides the first half: the true labels, one decision per ad
        for ad in decided:
            con.execute("INSERT INTO labels (ad_id, label, source, analyst) SELECT ad_id, ?, 'analyst', 'ana' "
                        "FROM ads WHERE site_id = ? AND external_id = ?",
                        ["lure" if ad["label"] else "not_lure", BOARD, ad["ref"]])
        assert con.execute("SELECT count(*) FROM labels l JOIN ads a USING (ad_id) WHERE a.site_id = ? AND "
                           "a.external_id IN (SELECT unnest(?::VARCHAR[]))", [BOARD, refs]).fetchall()[0][0] == 0
        data = assemble(con, None)
    used = [e for e in data.examples if e.site == BOARD]
    assert used and {e.external_id for e in used} <= {str(a["ref"]) for a in decided}  # held-out ads never trained
    after = _train(db, extractor)
    p_after = _held_out_scores(db, after, refs)

    auc_before, auc_after = average_precision_score(labels, p_before), average_precision_score(labels, p_after)
    loss_before = log_loss(labels, np.clip(p_before, 1e-6, 1 - 1e-6), labels=[0, 1])
    loss_after = log_loss(labels, np.clip(p_after, 1e-6, 1 - 1e-6), labels=[0, 1])
    measured = (f"{len(used)} decided ads trained on; held-out Estonian ads ({len(held)}, {labels.sum()} lures): "
                f"PR-AUC {auc_before:.3f} -> {auc_after:.3f}, log-loss {loss_before:.3f} -> {loss_after:.3f}")
    wrong_before, wrong_after = (int(((p >= 0.5) != labels).sum()) for p in (p_before, p_after))
    measured += f", ads on the wrong side of 0.5 {wrong_before} -> {wrong_after}"
    assert wrong_before >= 2, f"the current model must get this language wrong to start with: {measured}"
    assert loss_after <= LOG_LOSS_RATIO * loss_before, measured
    assert wrong_after < wrong_before and auc_after >= auc_before, measured
