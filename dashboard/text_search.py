"""The Clusters page's language tools for CLIP/SigLIP runs: find images by text (paged,
with their clusters, marked on the map) and name the clusters from the user's words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from clustering.features.presets import TEXT_KINDS
from clustering.files.discover import ImageRef
from clustering.review.names import NameSuggestions, names_for_run
from clustering.review.search import TEXT_MODELS_HINT, rank_by_text
from clustering.review.words import parse_word_list
from dashboard import state, thumbnails
from dashboard.compute import Analysis
from dashboard.errors import attempt
from dashboard.image_map import Marks
from dashboard.paging import page_slice, range_text

PER_PAGE = 12
QUERY = "text_search_query"
WORDS = "name_words_text"


def can_read_text(analysis: Analysis) -> bool:
    """Whether the run's features come from a model with a text encoder."""
    return analysis.run.features.extractor.get("kind") in TEXT_KINDS


@st.cache_data(show_spinner="Searching the images…", max_entries=32)
def _ranked(key: str, text: str, _analysis: Analysis) -> pd.DataFrame:
    features = _analysis.run.features
    return rank_by_text(text, features.features, list(_analysis.names),
                        _analysis.clustering.labels, features.extractor)


def search_section(analysis: Analysis, names: Mapping[int, str],
                   images: Sequence[ImageRef]) -> list[int]:
    """Draw the search box and one page of matches; their indices (to mark on the map)."""
    st.subheader("Find images by text")
    if not can_read_text(analysis):
        st.caption(f":material/info: Not with this run's features: {TEXT_MODELS_HINT}.")
        return []
    text = st.text_input("Describe what you are looking for", key=QUERY,
                         placeholder="a dog on a beach").strip()
    if not text:
        st.caption("Images are ranked by how well the words describe them (cosine of the "
                   "text's and the image's embeddings); the page shown is marked on the map.")
        return []
    table = attempt("searching by text", _ranked, analysis.clustering_key, text, analysis)
    if table is None:
        return []
    page = page_slice(len(table), PER_PAGE, f"search_page_{analysis.clustering_key}_{text}",
                      label="Matches page")
    rows = table.iloc[page]
    st.caption(f"{range_text(page, len(table), 'Matches')} for “{text}”, best first, marked "
               f"◯ on the map.")
    where = {name: i for i, name in enumerate(analysis.names)}
    shown = [where[file] for file in rows["file"]]
    thumbnails.show_thumbnails(
        [images[i] for i in shown],
        [f"{file}\n{names[int(c)]} · score {s:.3f}"
         for file, c, s in zip(rows["file"], rows["cluster"], rows["score"])])
    return shown


def match_marks(matches: Sequence[int]) -> list[Marks]:
    """The text search's matches, ringed on the map (selectable like the other points)."""
    return [Marks("text matches", list(matches), "circle-open",
                  ["matches your text"] * len(matches))] if matches else []


@st.cache_data(show_spinner="Naming the clusters from your words…", max_entries=16)
def _named_from(key: str, words: tuple[str, ...], _analysis: Analysis) -> NameSuggestions:
    return names_for_run(_analysis.result, words=list(words))


def words_box(analysis: Analysis) -> None:
    """Let the user name the clusters from their own list of words (CLIP/SigLIP runs)."""
    if not can_read_text(analysis):
        return
    with st.expander("Name the clusters from your own words"):
        st.text_area("Words or phrases, one per line or separated by commas", key=WORDS,
                     placeholder="birthday party\nbeach holiday\nour garden")
        if st.button("Name the clusters from these words", icon=":material/label:"):
            words = attempt("reading your words", parse_word_list,
                            str(st.session_state.get(WORDS, "")))
            if words is None:
                return
            named = attempt("naming the clusters", _named_from, analysis.clustering_key,
                            tuple(words), analysis)
            if named is not None:
                state.remember(state.ClusterNames(analysis.clustering_key, dict(named.names)))
                st.rerun()
