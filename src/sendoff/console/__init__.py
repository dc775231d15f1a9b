"""The web console under /console: server-rendered pages over the same domain objects the
APIs use, with a little vanilla JavaScript for live updates (no build step).

    wiring.py     install(services): routes, the read models, start/stop hooks
    context.py    Console: the services it calls, rendering, the page wrapper
    web.py        templates, forms, redirects with notices, Server-Timing, safety headers
    activity.py   EventIndex: the in-memory read model of asynchronous events
    history.py    MinuteSeries: per-minute metrics (history backfill + /metrics sampling)
    charts.py     inline SVG charts
    resources.py  ARNs -> console links, destination choices (asked of each destination kind)
    triggers/     what invokes a function: one module per source (sns, events, sqs)
    forms.py      field errors from AWS messages, inline code zips
    pages/        functions, function (Designer), destinations, code, testing, monitor,
                  invocations (and event timelines), logs, queues, topics, buses
    templates/    Jinja2 templates;  static/  console.css, console.js

See docs/console.md.
"""
