"""Demo data (``flask cme demo``, ./scripts/run.sh, the benchmark): not part of the product.

The demo sits above the services and calls them the way the pages do; no product module imports it.

* ``city`` — the Beijing-like city: districts, institutions, departments, persons (also the benchmark's
  300,000 persons by COPY);
* ``activity`` — what a newcomer clicks through, built by each area's own services: ``credits`` (rule set
  2026, bulk credits, the review chain), ``projects``, ``supervision``, ``audit``; ``common`` holds the
  fixed seed and day, the demo logins and the sample uploads.

A new area adds its own module here and one call in ``activity.build``.
"""
