"""Background jobs: long work that outlives the browser tab.

``store`` (the SQLite job table), ``work`` (what each kind of job does, with the
library's stages), ``worker`` (the process that runs jobs), ``supervisor`` (starts
workers, recovers jobs whose worker died). Never imports streamlit.
"""
