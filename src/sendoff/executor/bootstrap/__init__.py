"""Runtime bootstraps run inside execution environments (`LAMBDA_RUNTIME_DIR`).

They are scripts started as the function's process, never imported by sendoff:
`python_runtime.py` for `python3.x` and `node_runtime.mjs` for `nodejs*.x`.
"""
