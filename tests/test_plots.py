"""fusion.render.plots.write_html: one plotly.min.js per report folder, linked relatively."""
import plotly.graph_objects as go

from fusion.render import plots


def test_a_subfolder_links_its_parents_plotly_and_keeps_no_copy(tmp_path):
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 0]))
    top = plots.write_html(fig, tmp_path / "training.html")
    assert (tmp_path / "plotly.min.js").stat().st_size > 1_000_000
    assert 'src="plotly.min.js"' in top.read_text()
    sub = plots.write_html(fig, tmp_path / "training_blend" / "training.html")
    assert 'src="../plotly.min.js"' in sub.read_text() and "cdn.plot.ly" not in sub.read_text()
    assert not (tmp_path / "training_blend" / "plotly.min.js").exists()


def test_a_folder_without_a_parent_copy_gets_its_own(tmp_path):
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 0]))
    page = plots.write_html(fig, tmp_path / "alone" / "figure.html")
    assert (tmp_path / "alone" / "plotly.min.js").exists()
    assert 'src="plotly.min.js"' in page.read_text()
