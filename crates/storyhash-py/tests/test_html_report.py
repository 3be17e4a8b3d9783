"""The HTML report in a real browser: headless Chromium (Debian's chromium and
chromium-driver, which .ci/run installs) opens the pages the CLI writes, finds no console
errors, opens a cluster, sees its members, compares two of them and finds their shared
passages highlighted, and checks that Arabic text runs right to left. Screenshots of each
view go to target/screenshots/ (not committed)."""

import json
import pathlib
import shutil
import subprocess
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
CLI = ROOT / "target" / "release" / "storyhash"
SHOTS = ROOT / "target" / "screenshots"

webdriver = pytest.importorskip("selenium.webdriver")
if not (shutil.which("chromium") and shutil.which("chromedriver")):
    pytest.skip("chromium and chromedriver are not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium")
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,900", f"--user-data-dir={tempfile.mkdtemp()}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    yield driver
    driver.quit()


def report(tmp_path, args, name):
    out = tmp_path / name
    subprocess.run([str(CLI), *args, "--format", "html", "-o", str(out)], check=True)
    return out


def no_console_errors(driver):
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def members_of(group):
    """The member rows of an opened group (the toggle event draws them a moment later)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(group.parent, 10).until(
        lambda _: group.find_elements(By.CSS_SELECTOR, "tr.member") or None
    )


def shot(driver, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def test_the_seeds_word_overlap_cluster_opens_compares_and_reads_right_to_left(browser, tmp_path):
    from selenium.webdriver.common.by import By

    # Unigram overlap (the story preset's shingle settings) joins the five seeds.
    overlap = ["--shingle", "word:1", "--threshold", "0.15", "--stopwords", "all", "--stem"]
    page = report(tmp_path, ["cluster", *overlap], "seeds.html")
    assert b"http://" not in page.read_bytes().replace(b"http://www.w3.org/2000/svg", b"")
    browser.get(page.as_uri())
    no_console_errors(browser)
    assert "5 documents" in browser.find_element(By.TAG_NAME, "h1").text
    for chart in ["sizes", "similarities", "curve"]:
        assert browser.find_element(By.ID, chart).find_elements(By.CSS_SELECTOR, "svg")
    shot(browser, "overview")
    group = browser.find_element(By.CSS_SELECTOR, "details.group")
    group.find_element(By.TAG_NAME, "summary").click()
    members = members_of(group)
    assert len(members) == 5
    assert "kept" in members[0].text
    shot(browser, "cluster")
    boxes = group.find_elements(By.CSS_SELECTOR, "input[type=checkbox]")
    boxes[0].click()
    boxes[2].click()
    group.find_element(By.CSS_SELECTOR, "button.compare").click()
    pair = browser.find_element(By.ID, "pair")
    assert "open" in pair.get_attribute("class")
    marks = pair.find_elements(By.TAG_NAME, "mark")
    assert len(marks) > 0, "shared passages are highlighted"
    side = pair.find_element(By.CSS_SELECTOR, ".side")
    assert browser.execute_script("return getComputedStyle(arguments[0]).direction", side) == "rtl"
    shot(browser, "pair")
    no_console_errors(browser)


def test_a_generated_corpus_filters_and_pages(browser, tmp_path):
    from selenium.webdriver.common.by import By

    body = "the council approved the budget for schools roads and the new harbour on {} after a long debate"
    docs = []
    for story in range(150):
        for copy in range(3):
            docs.append({"id": f"s{story}-{copy}", "url": f"https://site{copy}.example/news/{story}",
                         "text": body.format(f"day {story} edition {copy} of {story}") + f" story {story}" * 6})
    for alone in range(40):
        docs.append({"id": f"alone{alone}", "text": f"unrelated note number {alone} " * 8})
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(d) + "\n" for d in docs))
    page = report(tmp_path, ["cluster", str(feed)], "generated.html")
    browser.get(page.as_uri())
    no_console_errors(browser)
    groups = browser.find_elements(By.CSS_SELECTOR, "details.group")
    assert len(groups) == 100, "the first hundred, the rest behind 'show more'"
    browser.find_element(By.ID, "more").click()
    assert len(browser.find_elements(By.CSS_SELECTOR, "details.group")) > 100
    search = browser.find_element(By.ID, "filter")
    search.send_keys("s17-1")
    shown = browser.find_elements(By.CSS_SELECTOR, "details.group")
    assert len(shown) == 1
    shown[0].find_element(By.TAG_NAME, "summary").click()
    rows = members_of(shown[0])
    assert [r.find_elements(By.TAG_NAME, "td")[4].text for r in rows] == ["site0.example", "site1.example", "site2.example"]
    assert "40 documents in no cluster" in browser.find_element(By.ID, "singletons").text
    shot(browser, "filtered")
    no_console_errors(browser)


def test_stories_show_their_groups(browser, tmp_path):
    from selenium.webdriver.common.by import By

    page = report(tmp_path, ["stories"], "stories.html")
    browser.get(page.as_uri())
    no_console_errors(browser)
    group = browser.find_element(By.CSS_SELECTOR, "details.group")
    group.find_element(By.TAG_NAME, "summary").click()
    assert len(members_of(group)) == 5
    assert "shared terms" in group.text
    # Each member says which terms tie it to the others.
    assert all("shares: " in row.text for row in members_of(group))
    shot(browser, "stories")


def test_a_dedup_run_draws_its_report_by_id(browser, tmp_path):
    from selenium.webdriver.common.by import By

    body = "the minister arrived in moscow on monday for talks on energy trade and security with his counterpart"
    docs = [{"id": f"copy{i}", "text": body + f" edition {i % 2}"} for i in range(6)]
    docs.append({"id": "other", "text": "a storm closed the port of rotterdam for two days and ships waited"})
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(d) + "\n" for d in docs))
    page = tmp_path / "dedup.html"
    subprocess.run([str(CLI), "dedup", "--quiet", str(feed), "-o", str(tmp_path / "kept.jsonl"),
                    "--report", str(page)], check=True)
    browser.get(page.as_uri())
    no_console_errors(browser)
    assert "7 documents" in browser.find_element(By.TAG_NAME, "h1").text
    group = browser.find_element(By.CSS_SELECTOR, "details.group")
    group.find_element(By.TAG_NAME, "summary").click()
    assert len(members_of(group)) == 6
    shot(browser, "dedup")


def test_an_index_lists_its_stories_and_clusters_by_headline_and_time(browser, tmp_path):
    from selenium.webdriver.common.by import By

    body = "the minister arrived in moscow on {} for talks on energy trade and security with his counterpart"
    docs = [
        {"id": "talks", "title": "Minister in Moscow for talks", "text": body.format("monday"),
         "published": "2025-03-01T08:00:00Z"},
        {"id": "talks-2", "title": "Talks in Moscow", "text": body.format("tuesday"),
         "published": "2025-03-01T09:00:00Z"},
        {"id": "storm", "text": "a storm closed the port of rotterdam for two days and ships waited",
         "published": "2025-03-02T10:00:00Z"},
    ]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(d) + "\n" for d in docs))
    index = tmp_path / "feed.idx"
    subprocess.run([str(CLI), "index", "create", str(index), "--stories", "story"], check=True)
    subprocess.run([str(CLI), "index", "add", "--quiet", str(index), str(feed)], check=True,
                   stdout=subprocess.DEVNULL)
    page = report(tmp_path, ["index", "stories", str(index)], "index-stories.html")
    browser.get(page.as_uri())
    no_console_errors(browser)
    assert "1 story of two or more" in browser.find_element(By.TAG_NAME, "h1").text
    group = browser.find_element(By.CSS_SELECTOR, "details.group")
    summary = group.find_element(By.TAG_NAME, "summary").text
    assert "2 documents, 2025-03-01" in summary and "Minister in Moscow for talks" in summary
    group.find_element(By.TAG_NAME, "summary").click()
    rows = [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in members_of(group)]
    # headline, id, source, date, similarity: an index keeps no score on joining. The
    # second is a near copy of the first, listed under it.
    assert [r[2:] for r in rows] == [
        ["Minister in Moscow for talks\ncopies: talks-2", "talks", "", "2025-03-01T08:00:00Z", ""],
        ["Talks in Moscow", "talks-2", "", "2025-03-01T09:00:00Z", ""],
    ]
    # The storm report is a story of one.
    assert browser.find_element(By.ID, "singletons").text.startswith("1 documents in no story")
    shot(browser, "index-stories")
    no_console_errors(browser)

    # The same index's near-duplicate clusters: the edit beside the Jaccard it matched at.
    listed = subprocess.run([str(CLI), "index", "clusters", "--format", "json", str(index)],
                            check=True, capture_output=True, text=True).stdout
    jaccard = json.loads(listed)[0]["matched"][1]["jaccard"]
    page = report(tmp_path, ["index", "clusters", str(index)], "index-clusters.html")
    browser.get(page.as_uri())
    no_console_errors(browser)
    assert "1 cluster of two or more" in browser.find_element(By.TAG_NAME, "h1").text
    group = browser.find_element(By.CSS_SELECTOR, "details.group")
    group.find_element(By.TAG_NAME, "summary").click()
    # The table is drawn on opening: its headings are read once its rows are there.
    rows = [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in members_of(group)]
    headings = [th.text for th in group.find_elements(By.TAG_NAME, "th")]
    assert headings[-1] == "Jaccard to the member matched"
    assert [r[2:] for r in rows] == [
        ["Minister in Moscow for talks", "talks", "", "2025-03-01T08:00:00Z", ""],
        ["Talks in Moscow", "talks-2", "", "2025-03-01T09:00:00Z", f"{jaccard:.3f}"],
    ]
    assert browser.find_element(By.ID, "singletons").text.startswith("1 documents in no cluster")
    shot(browser, "index-clusters")
    no_console_errors(browser)
