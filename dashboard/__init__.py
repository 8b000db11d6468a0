"""The Streamlit side of ClusterLens: glue between the pages and :mod:`clustering`.

Pages only draw; they read and write session state through :mod:`.state`, reach the
library through the cached calls in :mod:`.compute`, and turn errors into messages
with :mod:`.errors`. Modules without Streamlit in them (charts, galleries, uploads,
roots, fingerprints, the cluster zip) hold what only the dashboard needs.
"""
