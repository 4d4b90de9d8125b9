"""The files of a case file / evidence bundle, without the ORM: an e-mail as an RFC 5322
message, safe and unique names inside the ZIP, the manifest of SHA-256 digests, the ZIP."""
import csv
import hashlib
import io
import re
import zipfile
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

MANIFEST_NAME = "manifest.csv"
#: RFC 5322's limit: a seal (64 hexadecimal digits) stays on its header's line
EML_POLICY = SMTP.clone(max_line_length=998)


def sha256(content):
    return hashlib.sha256(content).hexdigest()


def safe_name(name, default="file"):
    """A file or folder name that every system accepts (no path separators, no control
    characters), keeping the words and the extension."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "-", (name or "").strip()).strip(" .-")
    return name[:120] or default


def unique_path(path, taken):
    """``path``, or ``stem (2).ext``... when a file of the ZIP already has it."""
    candidate, number = path, 2
    while candidate.lower() in taken:
        stem, dot, ext = path.rpartition(".")
        candidate = f"{stem} ({number}).{ext}" if dot and "/" not in ext else f"{path} ({number})"
        number += 1
    taken.add(candidate.lower())
    return candidate


def eml(*, sender, to, subject, date, html, text, attachments=(), message_id=None, headers=()):
    """An e-mail as sent, as RFC 5322 bytes (what a mail program opens).

    :param date: timezone-aware datetime it was sent
    :param attachments: (file name, mimetype, bytes)
    :param headers: further (name, value) headers (the reference, the seal)
    """
    msg = EmailMessage(policy=EML_POLICY)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id or make_msgid(domain="dunning.invalid")
    for name, value in headers:
        msg[name] = value
    msg.set_content(text or "")
    msg.add_alternative(html or "<p></p>", subtype="html")
    for filename, mimetype, content in attachments:
        maintype, _slash, subtype = (mimetype or "application/octet-stream").partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream",
                           filename=filename)
    return msg.as_bytes()


def manifest(files):
    """The CSV manifest of the ZIP: every file (path in the ZIP, SHA-256, size, what it is).

    :param files: dicts with ``path``, ``content``, ``what``
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["file", "sha256", "bytes", "what"])
    for item in files:
        writer.writerow([item["path"], sha256(item["content"]), len(item["content"]),
                         item.get("what", "")])
    return out.getvalue().encode("utf-8")


def build_zip(files):
    """The ZIP of these files (dicts with ``path`` and ``content``) and their manifest."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in files:
            archive.writestr(item["path"], item["content"])
        archive.writestr(MANIFEST_NAME, manifest(files))
    return buffer.getvalue()
