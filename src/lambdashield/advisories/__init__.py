"""Vulnerability advisories: OSV documents, the offline store, and matching.

    osv.py      reading OSV JSON strictly, and OSV's matching rules (PEP 440, SemVer)
    semver.py   npm's version ordering and range syntax
    store.py    the SQLite store: import, sync, lookups, status and staleness
    cli.py      `lambdashield db sync|import|status`

Sits beside `loaders` in the layering: it reads files and the network, and imports only
`errors` from the rest of the package.
"""
