"""Work that lasts: a reload restores the session, a bundle reopens it elsewhere, new images
land on a reopened run's map."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import streamlit as st

from clustering.export.run_folder import write_run
from clustering.pipeline import run_pipeline
from clustering.settings import Settings
from dashboard import persist, state
from dashboard.roots import ROOTS_ENV
from tests.app.app_helpers import (analysed_app, button, messages, new_app,
                                   no_traceback, png)
from tests.helpers import COLOURS, save_image


def reloaded(at) -> object:
    """A new session (as after F5) opened on the address ``at`` shows, on the Clusters page."""
    from streamlit.testing.v1 import AppTest

    from tests.app.app_helpers import APP, TIMEOUT

    again = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    again.query_params[persist.QUERY_KEY] = at.query_params[persist.QUERY_KEY]
    return again.run()


def cluster_and_rename(at, name: str = "Reds"):
    at.switch_page("pages/clusters.py").run()
    name_box = next(t for t in at.text_input if t.key.startswith("name_"))
    name_box.set_value(name).run()
    return at


def test_the_url_carries_a_secret_session_id():
    at = new_app()
    no_traceback(at)
    sid = at.query_params[persist.QUERY_KEY]
    assert persist.check_id(sid) == sid
    assert new_app().query_params[persist.QUERY_KEY] != sid  # every session its own


def test_a_reload_brings_back_images_features_k_and_names():
    at = cluster_and_rename(analysed_app())
    no_traceback(at)
    k, names = at.session_state[state.K], at.session_state[state.NAMES]
    shared = at.query_params[persist.QUERY_KEY]

    st.cache_data.clear()  # as after a server restart: only the disk cache is left
    again = reloaded(at)
    no_traceback(again)
    assert any("Restored your saved work" in m for m in messages(again, "success"))
    assert again.session_state[state.K] == k
    assert again.session_state[state.NAMES].names[0] == "Reds"
    assert again.session_state[state.NAMES] == names
    assert again.session_state[state.RUN].features.computed == 0  # all from the cache
    assert again.query_params[persist.QUERY_KEY] != shared  # a fork: the link's owner keeps theirs
    again.switch_page("pages/clusters.py").run()
    no_traceback(again)
    assert any(t.value == "Reds" for t in again.text_input)


def test_a_reload_survives_the_upload_folder_being_deleted():
    import shutil

    at = analysed_app()
    shutil.rmtree(at.session_state[state.UPLOAD_DIR])  # the session ended: uploads cleaned up
    again = reloaded(at)
    no_traceback(again)
    assert len(again.session_state[state.SOURCE].discovery.images) == 9
    again.switch_page("pages/clusters.py").run()
    no_traceback(again)
    assert not again.error


def test_a_bad_or_unknown_session_id_starts_fresh_with_a_message():
    from streamlit.testing.v1 import AppTest

    from tests.app.app_helpers import APP, TIMEOUT

    for asked, kind in (("../../etc/passwd", "warning"), ("a" * 43, "info")):
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.query_params[persist.QUERY_KEY] = asked
        at.run()
        no_traceback(at)
        assert messages(at, kind), asked
        assert at.query_params[persist.QUERY_KEY] != asked
        assert state.SOURCE not in at.session_state


def _write_bundle_script(session: str, out: str) -> None:
    """Run as a Streamlit script: restore ``session`` and write its Save bundle to ``out``."""
    from pathlib import Path

    import streamlit as st

    from dashboard import compute, persist

    st.query_params[persist.QUERY_KEY] = session
    persist.restore_at_start()
    Path(out).write_bytes(persist.bundle_maker(compute.current_analysis())())


def saved_bundle(at, tmp_path: Path) -> bytes:
    """The bundle the Save button of ``at``'s session gives (made as the page makes it)."""
    from streamlit.testing.v1 import AppTest

    out = tmp_path / "bundle.zip"
    script = AppTest.from_function(_write_bundle_script, default_timeout=120,
                                   args=(at.query_params[persist.QUERY_KEY], str(out)))
    no_traceback(script.run())
    return out.read_bytes()


def test_a_saved_bundle_reopens_in_a_fresh_session(tmp_path, monkeypatch):
    folder = tmp_path / "photos"
    for g, colour in enumerate(COLOURS.values()):
        for i in range(3):
            save_image(folder / f"{g}_{i}.png", colour, seed=10 * g + i)
    monkeypatch.setenv(ROOTS_ENV, str(tmp_path))
    at = new_app()
    at.text_input(key="server_path").set_value(str(folder))
    button(at, "Use this folder").click().run()
    at.switch_page("pages/features.py").run()
    at.selectbox(key="_w_model").set_value("handcrafted").run()
    button(at, "Run").click().run()
    cluster_and_rename(at, "First")
    st.cache_data.clear()  # the fresh session below must find the features on disk
    at.switch_page("pages/data.py").run()
    assert any("Save" in b.proto.label for b in at.get("download_button"))
    bundle = saved_bundle(at, tmp_path)
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        assert not [n for n in archive.namelist() if n.endswith(".png")]  # no images inside

    fresh = new_app()
    fresh.file_uploader(key="reopen_bundle").set_value(
        [("clusterlens-bundle.zip", bundle, "application/zip")]).run()
    no_traceback(fresh)
    assert any("Reopened the bundle" in m for m in messages(fresh, "success")), \
        messages(fresh, "error")
    assert fresh.session_state[state.K] == at.session_state[state.K]
    assert fresh.session_state[state.RUN].features.computed == 0
    assert fresh.session_state[state.NAMES].names[0] == "First"

    # Add images to the reopened run: placed on its map, marked new
    fresh.file_uploader(key="add_files").set_value(
        [("new_red.png", png(COLOURS["red"], seed=999), "image/png")]).run()
    button(fresh, "Place these images").click().run()
    no_traceback(fresh)
    added = fresh.session_state[persist.ADDED]["table"]
    assert added["file"].tolist() == ["new_red.png"]
    saved = fresh.session_state[persist.REOPENED]["bundle"].labels
    red = int(saved.loc[saved["file"] == "0_0.png", "cluster"].iloc[0])
    assert int(added["cluster"].iloc[0]) == red
    assert any("1 images placed**: 1 new" in m.value for m in fresh.markdown)
    # ... and on Clusters too, as a star on the reopened run's map
    fresh.switch_page("pages/clusters.py").run()
    no_traceback(fresh)
    [star] = [t for c in fresh.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]
              if t.get("name", "").startswith("new")]
    assert star["marker"]["symbol"].startswith("star")
    assert star["text"][0].startswith("new_red.png → ")


def test_a_cli_run_folder_reopens_from_the_allowed_roots(tmp_path, monkeypatch):
    folder = tmp_path / "photos"
    for g, colour in enumerate(COLOURS.values()):
        for i in range(3):
            save_image(folder / f"{g}_{i}.png", colour, seed=10 * g + i)
    result = run_pipeline(folder, Settings(model="handcrafted", k=3, cache_dir=None))
    write_run(result, tmp_path / "run", {0: "alpha", 1: "beta", 2: "gamma"})
    monkeypatch.setenv(ROOTS_ENV, str(tmp_path))
    st.cache_data.clear()
    at = new_app()
    at.text_input(key="reopen_path").set_value(str(tmp_path / "run"))
    button(at, "Reopen this run").click().run()
    no_traceback(at)
    assert any("Reopened saved run" in m for m in messages(at, "success")), messages(at, "error")
    assert at.session_state[state.K] == 3
    assert at.session_state[state.RUN].features.computed == 0  # the CLI filled the cache
    assert set(at.session_state[state.NAMES].names.values()) == {"alpha", "beta", "gamma"}

    save_image(tmp_path / "more" / "blue_new.png", COLOURS["blue"], seed=4242)
    for path, placed in (("/etc", False), (str(tmp_path / "more"), True)):
        at.text_input(key="add_path").set_value(path)
        button(at, "Place the images of this folder").click().run()
        no_traceback(at)
        assert (persist.ADDED in at.session_state) == placed, messages(at, "error")
    table = at.session_state[persist.ADDED]["table"]
    assert table["file"].tolist() == ["blue_new.png"] and not table["clustered"].any()


def test_a_run_whose_images_are_gone_says_so(tmp_path, monkeypatch):
    import shutil

    folder = tmp_path / "photos"
    for g, colour in enumerate(COLOURS.values()):
        save_image(folder / f"{g}.png", colour, seed=g)
        save_image(folder / f"{g}b.png", colour, seed=g + 9)
    write_run(run_pipeline(folder, Settings(model="handcrafted", k=2)), tmp_path / "run")
    shutil.rmtree(folder)
    monkeypatch.setenv(ROOTS_ENV, str(tmp_path))
    at = new_app()
    at.text_input(key="reopen_path").set_value(str(tmp_path / "run"))
    button(at, "Reopen this run").click().run()
    no_traceback(at)
    assert any("photos" in m for m in messages(at, "error")), messages(at, "error")
    assert any("Add images to saved run" in m.value for m in at.markdown)  # the map still is


def test_a_refused_bundle_says_why():
    at = new_app()
    at.file_uploader(key="reopen_bundle").set_value([("b.zip", b"PK not a zip", "application/zip")]).run()
    no_traceback(at)
    assert any("not a bundle" in m for m in messages(at, "error"))


def test_a_run_folder_outside_the_allowed_roots_is_refused(tmp_path):
    at = new_app()
    at.text_input(key="reopen_path").set_value(str(tmp_path))
    button(at, "Reopen this run").click().run()
    no_traceback(at)
    assert messages(at, "error")


def test_a_crafted_bundle_cannot_open_folders_outside_the_roots(tmp_path, monkeypatch):
    import pandas as pd

    from clustering.export.bundle import Bundle, write_bundle

    monkeypatch.setenv(ROOTS_ENV, str(tmp_path))
    labels = pd.DataFrame({"file": ["passwd"], "cluster": [0]})
    for source, expected in (({"kind": "folder", "path": "/etc"}, "error"),
                             ({"kind": "sessions", "path": "/etc"}, "error"),
                             ({"kind": "upload", "path": "/etc"}, "success")):
        crafted = write_bundle(Bundle(run={"source": source}, labels=labels))
        at = new_app()
        at.file_uploader(key="reopen_bundle").set_value(
            [("![x](http://example.invalid/p.png).zip", crafted, "application/zip")]).run()
        no_traceback(at)
        assert messages(at, expected), (source, messages(at, "error"))
        assert state.SOURCE not in at.session_state  # nothing from /etc became the images
        assert not any("![x](" in m for m in messages(at, expected))  # no remote image fetched
