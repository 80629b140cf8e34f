# The report's opening page of each paper: its claims table (PASS/FAIL with the measured values)
# as a small HTML page in that paper's report category. Included after the paper rule files.

PAPER_CATEGORIES = {
    "profiles": "Paper 000 — learning profiles",
    "robustness": "Paper 001 — effective robustness",
    "depth": "Paper 002 — prediction depth",
    "scores": "Paper 003 — difficulty scores",
}
REPORT_PAPERS = [p for p in PAPER_CATEGORIES if f"{CLAIMS}/{p}.csv" in PAPER_TARGETS]

if REPORT_PAPERS:

    wildcard_constraints:
        paper="|".join(REPORT_PAPERS),

    rule claims_page:
        """A paper's claims table rendered for the report."""
        input:
            CLAIMS + "/{paper}.csv",
        output:
            report(CLAIMS + "/{paper}.html", category=lambda wc: PAPER_CATEGORIES[wc.paper],
                   subcategory="Claims", labels=lambda wc: {"paper": wc.paper, "table": "claims"}),
        params:
            title=lambda wc: f"{PAPER_CATEGORIES[wc.paper]}: claims",
        log:
            LOGS + "/claims/{paper}_html.log",
        script:
            "../workflow_scripts/claims_page.py"

    PAPER_TARGETS.extend(f"{CLAIMS}/{p}.html" for p in REPORT_PAPERS)
