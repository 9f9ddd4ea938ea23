"""A city's data in and out, on its own: export one tenant to an archive, import the
archive into another deployment (or back), delete a tenant, restore one tenant from a
whole-platform backup.

* :mod:`.archive`: the archive format (versioned, with a manifest and a checksum of each
  member) and the encoding of each column's values; ``docs/portability.md`` describes it.
* :mod:`.export`: every row of the tenant's tables (the core's and its plugins') and its
  tenant record.
* :mod:`.load`: an archive into a deployment with the same schema, all or nothing.
* :mod:`.removal`: every row of a tenant, with a dry run that counts what goes.

Transient security material (sessions, API tokens, one-time and reset tokens, API
replays) and the outbox queue are not carried: API tokens name their tenant and are
issued again after an import; drain the outbox before an export.
"""
