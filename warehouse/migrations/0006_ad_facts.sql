-- 0006: per-ad facts and cross-ad features. pipeline/cross_ad_features.py recomputes both tables (and ad_clusters, from
-- 0003) for every ad after feature extraction; a re-run with the same data writes the same rows.

-- What the extractor found in each ad, flattened for SQL (source: features.vector and features.evidence).
CREATE TABLE ad_facts (
    ad_id             BIGINT PRIMARY KEY,
    language          VARCHAR,              -- primary language of the ad text (NULL: not extracted yet)
    salary_eur_month  DOUBLE,               -- highest advertised pay in EUR per month; NULL when none stated
    min_age           INTEGER,              -- lowest stated age limit; NULL when none
    max_age           INTEGER,              -- highest stated age limit; NULL when none
    destinations      VARCHAR[] NOT NULL,   -- ISO 3166-1 alpha-2 countries named in the ad, first mention first
    destination       VARCHAR,              -- first named country outside the language's home countries, else
                                            -- ads.country, else the country of ads.location, else the first
                                            -- named one
    city              VARCHAR,              -- ads.location (canonical name when the gazetteer knows it), else
                                            -- the first city named in the ad
    category          VARCHAR NOT NULL,     -- salary peer group: ads.category when the crawler stores one,
                                            -- else '<language>:<destination or ->'
    posted_on         DATE NOT NULL,        -- coalesce(ads.posted, ads.first_seen)
    computed_at       TIMESTAMP NOT NULL DEFAULT now()
);
CREATE INDEX idx_ad_facts_category ON ad_facts (category);

-- Features that need the other ads: shared contacts, template clusters, posting bursts, pay vs peers.
CREATE TABLE ad_cross_features (
    ad_id                  BIGINT PRIMARY KEY,
    shared_contact_ads     INTEGER NOT NULL,  -- other ads sharing >= 1 contact value (phone, e-mail, messenger)
    shared_contact_sites   INTEGER NOT NULL,  -- distinct sites among this ad and those ads (0: no contact)
    shared_contact_cities  INTEGER NOT NULL,  -- distinct cities among this ad and those ads (ad_facts.city)
    cluster_size           INTEGER NOT NULL,  -- ads in its near-duplicate template cluster (1: unique)
    contact_velocity_7d    INTEGER NOT NULL,  -- max over its contacts: ads with that contact posted in the 7 days
                                              -- up to this ad's posted_on (itself included; 0: no contact)
    cluster_velocity_7d    INTEGER NOT NULL,  -- ads of its cluster posted in the 7 days up to its posted_on
    posting_velocity_7d    INTEGER NOT NULL,  -- greatest of the two
    salary_z               DOUBLE,            -- z-score of ln(salary_eur_month) within salary_group; NULL: no pay
    salary_group           VARCHAR,           -- the peer group used: category, 'lang:<xx>' or 'all' (fallbacks
                                              -- when a group has fewer than 5 salaried ads or no spread)
    computed_at            TIMESTAMP NOT NULL DEFAULT now()
);
