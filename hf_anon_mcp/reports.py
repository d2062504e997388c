"""Full reports kept on local disk by id, so tool results stay small and link to them (`report://{id}`)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from pydantic import BaseModel

from hf_anon_mcp.errors import InputError

_ID = re.compile(r"^[a-z]+-[0-9a-f]{12}$")


def default_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hf-anon-mcp" / "reports"


class ReportStore:
    """JSON files named by report id, written atomically, readable by their owner only."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder else default_dir()

    def save(self, report: BaseModel) -> Path:
        """Store a report (with one name per entity type, as every face shows it) under its id."""
        from hf_anon_mcp.entity_names import canonical_anonymize, canonical_scan
        from hf_anon_mcp.models import AnonymizeReport, ScanReport

        if isinstance(report, ScanReport):
            report = canonical_scan(report)
        elif isinstance(report, AnonymizeReport):
            report = canonical_anonymize(report)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.folder / f"{report.report_id}.json"
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(report.model_dump_json(indent=1))
        os.replace(tmp, path)
        return path

    def path(self, report_id: str) -> Path:
        if not _ID.match(report_id):
            raise InputError(f"not a report id: {report_id!r}", hint="ids look like scan-0123456789ab")
        path = self.folder / f"{report_id}.json"
        if not path.is_file():
            raise InputError(f"no stored report {report_id}", hint="reports come from scan_dataset/anonymize_dataset")
        return path

    def read(self, report_id: str) -> str:
        return self.path(report_id).read_text(encoding="utf-8")
