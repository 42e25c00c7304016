-- 0003: near-duplicate template clusters (filled by the cross-ad feature step), so one template
-- does not flood the review queue and analysts see an ad's siblings.
CREATE TABLE ad_clusters (
    ad_id         BIGINT PRIMARY KEY,
    cluster_id    BIGINT NOT NULL,      -- the smallest ad_id in the cluster
    cluster_size  INTEGER NOT NULL,
    method        VARCHAR NOT NULL,     -- e.g. 'minhash-lsh:0.8'
    computed_at   TIMESTAMP NOT NULL DEFAULT now()
);
CREATE INDEX idx_ad_clusters_cluster ON ad_clusters (cluster_id);
