"""Tools shared by the tests and the benchmarks, never imported by `rag`, `ui` or `evals`.

- `web`: `serving(app)`, an ASGI app on a loopback port in a background thread;
- `report`: the generated report-grade PDF (`python -m devtools.report.make_report OUT.pdf`)
  and the facts it states.
"""
