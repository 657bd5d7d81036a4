"""`studio eval`: run YAML eval cases (format: design/evals.md) against the real Command Center graph.

cases    -- the case format (pydantic) and loading/validation of case files and folders
worlds   -- a fresh sandbox world per trial, copied from a template built once per invocation
results  -- what a trial observed and how it scored (the records behind the JSON)
checks   -- pure matching of one trial against its case (arguments, trajectories, approvals, ...)
metrics  -- pure aggregation: routing accuracy, tool precision/recall, pass^k, latency percentiles, ...
harness  -- runs trials (optionally concurrently), each on its own Studio + Runner
judge    -- optional LLM judge of brand-voice fit (real models only)
report   -- rich tables, JSON, Markdown and baseline comparison
cli      -- `register(app)` adds the `eval` command to the `studio` typer app
"""
