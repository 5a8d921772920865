"""The edge HTTP cache: a shared cache per RFC 9111, with RFC 9110 conditionals and ranges, RFC 9211
Cache-Status and RFC 9213 targeted fields. This package is the pure core: decisions over plain data, and
the store they use; nothing here does I/O or reads the clock (times are passed in, in seconds).

The map, lowest layer first:

  fields.py        reading header lists: values, combined lines, list members
  httpdate.py      strict HTTP-date parsing (IMF-fixdate, rfc850, asctime)
  structured.py    Structured Field Dictionaries, the syntax of CDN-Cache-Control
  directives.py    Cache-Control and targeted fields -> frozen Directives
  freshness.py     freshness lifetime, heuristics, Age parsing, age arithmetic
  vary.py          the secondary key: Vary names, normalised request values, matching
  entry.py         StoredResponse: a stored variant with its precomputed facts; headers a cache may keep
  storability.py   may this response be stored? (a table of refusals, each with its RFC section)
  policy.py        may a stored response answer this request: fresh, stale, revalidate, 504; stale-if-error
  validation.py    conditional requests to the origin, 304 merging, client conditionals, 304 headers
  ranges.py        single byte ranges served from a stored 200; If-Range
  invalidation.py  what an unsafe method invalidates
  status.py        Age and Cache-Status on what is served
  keys.py          the primary key (scheme, host, path and query)
  store.py         the Store protocol and MemoryStore, a byte-bounded LRU of variants
"""
