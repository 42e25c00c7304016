"""Deterministic generator for ``fixture_sites/data/ads.jsonl``.

All human-written text (titles, companies, paragraphs, lure and hard-negative templates) lives in
``fixture_sites/content/<lang>.yaml``; ``common.yaml`` holds the shared parameters. This module only
composes those pieces with a seeded ``random.Random`` so that ``python -m fixture_sites.generate``
rewrites ``ads.jsonl`` byte-identically.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

PACKAGE_DIR = Path(__file__).resolve().parent
CONTENT_DIR = PACKAGE_DIR / "content"
DEFAULT_OUT = PACKAGE_DIR / "data" / "ads.jsonl"

AD_KEYS: tuple[str, ...] = (
    "ref",
    "site",
    "lang",
    "title",
    "body",
    "company",
    "city",
    "country",
    "salary",
    "posted",
    "category",
    "contact",
    "label",
    "kind",
    "template",
    "split",
)
SITES: tuple[str, ...] = ("balticjobs", "skelbimai", "darbas-forum")
MIN_BODY, MAX_BODY = 300, 1500

Ad = dict[str, Any]


def _load_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at top level")
    return data


def _fill_digits(pattern: str, rng: random.Random) -> str:
    """Replace every ``X`` in a phone pattern with a random digit (other characters are kept)."""
    return "".join(str(rng.randrange(10)) if ch == "X" else ch for ch in pattern)


def _round_to(value: float, step: float) -> float:
    return round(value / step) * step


def _fmt_amount(value: float, lang_cfg: dict[str, Any]) -> str:
    sep = lang_cfg.get("thousands", "")
    dec = lang_cfg.get("decimal", ".")
    if float(value).is_integer():
        digits = f"{int(value):,}".replace(",", sep) if int(value) >= 10000 else str(int(value))
        return digits
    return f"{value:.2f}".replace(".", dec)


def salary_text(salary: dict[str, Any], lang_cfg: dict[str, Any]) -> str:
    """Render a salary object as prose in the ad's language, e.g. ``1200–1500 EUR mēnesī (bruto)``."""
    words = lang_cfg["salary_text"]
    currency = (lang_cfg.get("currency_names") or {}).get(salary["currency"], salary["currency"])
    lo = _fmt_amount(salary["min"], lang_cfg)
    if salary.get("max") is None:
        amount = words["from"].format(min=lo, currency=currency)
    else:
        hi = _fmt_amount(salary["max"], lang_cfg)
        amount = words["range"].format(min=lo, max=hi, currency=currency)
    return f"{amount} {words[salary['period']]}"


def _make_salary(
    rng: random.Random, common: dict[str, Any], lang_cfg: dict[str, Any], country: str, category: str
) -> dict[str, Any] | None:
    if rng.random() < 0.2:
        return None
    cinfo = common["countries"][country]
    monthly = cinfo["base"] * common["category_pay"].get(category, 1.0) * rng.uniform(0.88, 1.12)
    hourly_cats = (lang_cfg.get("hourly") or {}).get(country, [])
    if category in hourly_cats:
        lo = max(_round_to(monthly / 165, 0.5), 1.0)
        hi: float | None = lo + rng.choice([0.5, 1.0, 1.5, 2.0, 3.0])
        period = "hour"
    else:
        step = cinfo["step"]
        lo = _round_to(monthly, step)
        hi = _round_to(lo * rng.uniform(1.1, 1.35), step)
        period = "month"
    if rng.random() < 0.3:
        hi = None
    lo_n: float | int = int(lo) if float(lo).is_integer() else lo
    hi_n: float | int | None = None if hi is None else (int(hi) if float(hi).is_integer() else hi)
    return {"min": lo_n, "max": hi_n, "currency": cinfo["currency"], "period": period}


def _ordinary_ad(
    rng: random.Random, common: dict[str, Any], cfg: dict[str, Any], category: str, index: int
) -> Ad:
    lang = cfg["lang"]
    ordn = cfg["ordinary"]
    role = rng.choice(ordn["categories"][category])
    company = rng.choice([c for c in cfg["companies"] if category in c["cats"]])
    country = company["country"]
    city = rng.choice(cfg["cities"][country])
    salary = _make_salary(rng, common, cfg, country, category)
    email = f"{rng.choice(cfg['email_users'])}@{company['domain']}"
    phone = _fill_digits(rng.choice(cfg["phones"][country]), rng)
    values = {
        "company": company["name"],
        "city": city,
        "email": email,
        "phone": phone,
        "salary": salary_text(salary, cfg) if salary else "",
    }
    title = rng.choice(role["titles"])
    if rng.random() < 0.25:
        title = f"{title} – {city}" if rng.random() < 0.5 else f"{title} ({city})"

    applicable = [
        r if isinstance(r, str) else r["text"]
        for r in ordn["requirements"]
        if isinstance(r, str) or category in r["cats"]
    ]
    reqs = rng.sample(applicable, k=2)
    offer = rng.choice(ordn["offer"] if salary else ordn["offer_nosalary"])
    paragraphs = [
        rng.choice(ordn["intro"]),
        rng.choice(role["duties"]),
        reqs[0] if rng.random() < 0.5 else f"{reqs[0]} {reqs[1]}",
        offer,
        rng.choice(ordn["apply"]),
    ]
    if rng.random() < 0.25:  # some ads fold the intro and duties into one paragraph
        paragraphs[0:2] = [f"{paragraphs[0]} {paragraphs[1]}"]
    body = "\n\n".join(p.format_map(values) for p in paragraphs)
    if len(body) < MIN_BODY:
        extra = next(r for r in applicable if r not in reqs).format_map(values)
        parts = body.split("\n\n")
        parts.insert(-1, extra)
        body = "\n\n".join(parts)
    contact = rng.choice(cfg["contact_formats"]).format_map(values)
    return {
        "lang": lang,
        "title": title,
        "body": body,
        "company": company["name"],
        "city": city,
        "country": country,
        "salary": salary,
        "category": category,
        "contact": contact,
        "label": 0,
        "kind": "ordinary",
        "template": f"ord-{lang}-{index:03d}",
    }


def _pick(value: Any, i: int) -> Any:
    """Template fields may be a single value or a list of per-repost variants."""
    if isinstance(value, list):
        return value[i % len(value)]
    return value


def _scripted_ads(cfg: dict[str, Any], tpl: dict[str, Any], kind: str) -> list[Ad]:
    ads: list[Ad] = []
    for i in range(int(tpl.get("posts", 1))):
        paragraphs = [_pick(alts, i) for alts in tpl["paragraphs"]]
        ads.append(
            {
                "lang": cfg["lang"],
                "title": _pick(tpl["titles"], i),
                "body": "\n\n".join(p for p in paragraphs if p),
                "company": _pick(tpl.get("company"), i),
                "city": _pick(tpl["city"], i),
                "country": tpl["country"],
                "salary": tpl.get("salary"),
                "category": tpl["category"],
                "contact": _pick(tpl.get("contact"), i),
                "label": 1 if kind == "lure" else 0,
                "kind": kind,
                "template": tpl["id"],
            }
        )
    return ads


def _assign_splits(ads: list[Ad], rng: random.Random, share: float) -> None:
    """Assign ``split`` per template, stratified by (lang, kind).

    About ``share`` of each stratum's ads go to eval; all ads of a template land on the same side.
    """
    strata: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for ad in ads:
        group = strata[(ad["lang"], ad["kind"])]
        group[ad["template"]] = group.get(ad["template"], 0) + 1
    split_of: dict[str, str] = {}
    for key in sorted(strata):
        templates = sorted(strata[key].items())
        rng.shuffle(templates)
        total = sum(n for _, n in templates)
        target = share * total
        eval_n = 0
        for pos, (template, n) in enumerate(templates):
            # take a template for eval if that moves the stratum closer to the target share,
            # but always keep at least one template on the train side
            if pos < len(templates) - 1 and eval_n + n / 2 <= target:
                split_of[template] = "eval"
                eval_n += n
            else:
                split_of[template] = "train"
        if eval_n == 0 and len(templates) > 1:
            smallest = min(templates, key=lambda item: (item[1], item[0]))[0]
            split_of[smallest] = "eval"
    for ad in ads:
        ad["split"] = split_of[ad["template"]]


def build_ads(content_dir: Path = CONTENT_DIR) -> list[Ad]:
    """Compose the full fixture dataset from the YAML content files (deterministic)."""
    common = _load_yaml(content_dir / "common.yaml")
    rng = random.Random(common["seed"])
    date_from = dt.date.fromisoformat(common["date_from"])
    date_to = dt.date.fromisoformat(common["date_to"])
    span = (date_to - date_from).days

    ads: list[Ad] = []
    for lang in common["languages"]:
        cfg = _load_yaml(content_dir / f"{lang}.yaml")
        lang_ads: list[Ad] = []
        for tpl in cfg.get("lures", []):
            lang_ads.extend(_scripted_ads(cfg, tpl, "lure"))
        for tpl in cfg.get("hard_negatives", []):
            lang_ads.extend(_scripted_ads(cfg, tpl, "hard_negative"))
        categories = sorted(cfg["ordinary"]["categories"])
        n_ordinary = common["ads_per_language"] - len(lang_ads)
        order: list[str] = []
        while len(order) < n_ordinary:
            batch = categories[:]
            rng.shuffle(batch)
            order.extend(batch)
        ordinary = [_ordinary_ad(rng, common, cfg, cat, k + 1) for k, cat in enumerate(order[:n_ordinary])]
        for inj_no, inj in enumerate(i for i in common.get("injections", []) if i["lang"] == lang):
            target = ordinary[3 + 7 * inj_no]
            parts = target["body"].split("\n\n")
            parts.insert(-1, inj["text"])
            target["body"] = "\n\n".join(parts)
        lang_ads.extend(ordinary)
        ads.extend(lang_ads)

    # Dates: re-posts of one template follow each other within a few days.
    first_date: dict[str, dt.date] = {}
    for ad in ads:
        tpl = ad["template"]
        if tpl not in first_date:
            day = date_from + dt.timedelta(days=rng.randrange(span + 1))
            first_date[tpl] = day
        else:
            day = min(first_date[tpl] + dt.timedelta(days=rng.randint(1, 9)), date_to)
            first_date[tpl] = day
        ad["posted"] = day.isoformat()

    # Sites: re-posts of one scripted template are spread over different sites first,
    # the remaining ads fill each site's quota.
    weights = common["site_weights"]
    total_w = sum(weights.values())
    quota = {s: round(len(ads) * weights[s] / total_w) for s in SITES}
    quota[SITES[0]] += len(ads) - sum(quota.values())
    by_template: dict[str, list[Ad]] = defaultdict(list)
    for ad in ads:
        by_template[ad["template"]].append(ad)
    for group in by_template.values():
        if len(group) > 1:
            order_sites = list(SITES)
            rng.shuffle(order_sites)
            for i, ad in enumerate(group):
                ad["site"] = order_sites[i % len(order_sites)]
                quota[ad["site"]] -= 1
    pool = [s for s in SITES for _ in range(quota[s])]
    rng.shuffle(pool)
    rest = [ad for ad in ads if "site" not in ad]
    if len(pool) != len(rest):
        raise RuntimeError("site quota mismatch")
    for ad, site in zip(rest, pool, strict=True):
        ad["site"] = site

    _assign_splits(ads, rng, common["eval_share"])

    # Refs: numbered per site in posting order (oldest first).
    prefix = common["site_prefix"]
    counters: dict[str, int] = defaultdict(int)
    for ad in sorted(ads, key=lambda a: (a["posted"], a["lang"], a["template"])):
        counters[ad["site"]] += 1
        ad["ref"] = f"{prefix[ad['site']]}-{counters[ad['site']]:04d}"

    records = [{key: ad[key] for key in AD_KEYS} for ad in ads]
    records.sort(key=lambda a: (SITES.index(a["site"]), a["ref"]))
    return records


def dumps(records: list[Ad]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def generate(out_path: Path = DEFAULT_OUT, content_dir: Path = CONTENT_DIR) -> list[Ad]:
    """Build the dataset and write it as JSON lines to ``out_path``; returns the records."""
    records = build_ads(content_dir)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(dumps(records).encode("utf-8"))
    return records


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Regenerate the fixture-sites ads dataset.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output path (default: %(default)s)")
    args = parser.parse_args(argv)
    records = generate(args.out)
    print(f"wrote {len(records)} ads to {args.out}")


if __name__ == "__main__":
    main()
