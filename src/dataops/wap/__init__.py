"""Write-audit-publish: a run's models are built and tested in a place of the
run's own, and become production in one atomic step only when every test passed.

- ``place``: the run's schema and, for each model, where it is built and where it is published;
- ``sql``: the statements, one dialect per warehouse (found through the warehouse registry);
- ``catalog``: the published versions, kept in the warehouse beside the data they name;
- ``publisher``: prepare a run's place, publish it, roll back, clean up.
"""
