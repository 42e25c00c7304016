"""Config-driven Scrapy crawlers that write public job/classified ads into the DuckDB warehouse.

Import :func:`crawlers.run.crawl_site` to crawl one site in a subprocess; the site definitions are data in
``crawlers/sites/*.yaml`` (see :mod:`crawlers.site_config`).
"""
