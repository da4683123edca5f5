"""How to cite: CITATION.cff, the How-to-cite page and the bibliography agree with each other."""

import re
from pathlib import Path

import yaml

import infomech

ROOT = Path(__file__).resolve().parents[1]


def _cff() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def _page_bibtex() -> dict[str, str]:
    text = (ROOT / "book" / "how-to-cite.md").read_text(encoding="utf-8")
    block = re.search(r"@software\{[^,]+,(.*?)\n\}", text, re.S)
    assert block, "how-to-cite.md has no @software BibTeX entry"
    return {k: v.strip() for k, v in re.findall(r"(\w+)\s*=\s*\{(.*)\},?\s*$", block.group(1), re.M)}


def test_cff_cites_the_software_itself():
    cff = _cff()
    assert cff["type"] == "software"
    pref = cff.get("preferred-citation")
    assert pref is None or pref.get("type") == "software", "the preferred citation must be the software"
    assert any("arxiv.org/abs/2512.24338" in str(ref.get("url", "")) for ref in cff.get("references", []))


def test_cff_and_how_to_cite_agree():
    cff, bib = _cff(), _page_bibtex()
    assert bib["version"] == str(cff["version"]) == infomech.__version__
    assert bib["url"] == cff["repository-code"]
    assert bib["license"] == cff["license"]
    assert bib["title"].replace('"', "'") == cff["title"]


def test_bibliography_lists_what_the_book_cites():
    bib_keys = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "book" / "references.bib").read_text(), re.M))
    cited = set()
    for path in (ROOT / "book").glob("*.*"):
        if path.suffix in (".md", ".ipynb"):
            for group in re.findall(r"\{cite:[a-z]+\}`([^`]+)`", path.read_text(encoding="utf-8")):
                cited |= {k.strip() for k in group.split(",")}
    assert cited <= bib_keys, f"cited but not in references.bib: {sorted(cited - bib_keys)}"
    assert bib_keys <= cited, f"in references.bib but never cited: {sorted(bib_keys - cited)}"
    assert ":all:" not in (ROOT / "book" / "bibliography.md").read_text(), "list only what is cited"
