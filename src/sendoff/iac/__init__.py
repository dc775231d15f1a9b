"""Infrastructure as code: CloudFormation and SAM templates deployed to a sendoff server.

The path of ``sendoff deploy template.yaml`` (commands.py, behind sendoff.cli.stacks)::

    load.py       read the file; template.py parses it (short-form tags, lines for errors);
                  sam.py expands AWS::Serverless::Function; package.py zips local code
    plan.py       parameters.py, intrinsics.py (conditions, Ref, Fn::*), graph.py (order,
                  cycles) and resources/ (property schemas) check everything, then the
                  change set against the previous deployment: nothing is touched yet
    engine.py     create / update / replace / delete in dependency order through
                  resources/ (boto3 clients pointed at the server: remote.py), or roll back
    state.py      the stack document, kept by the server (stacks_api.py, wiring.py)
    progress.py   the live display; exit_codes.py what scripts can rely on

The CloudFormation API runs the same plan and engine in the server (docs/cloudformation.md)::

    cfn_api.py         the query-protocol edge (forms in; cfn_xml.py XML out; cfn_errors.py)
    cloudformation.py  the stack operations: check and plan at once, then save the stack
                       IN_PROGRESS; change_sets.py; server_templates.py (TemplateBody/URL),
                       capabilities.py
    runner.py          the engine in a worker thread, signing as the caller
    repository.py      stacks, deleted stacks and change sets in the store

Everything up to ``plan.py`` is pure and table-tested; errors are in errors.py. See
docs/templates.md.
"""
