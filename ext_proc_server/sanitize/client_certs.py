"""Envoy's ``X-Forwarded-Client-Cert`` (XFCC): the client certificate a proxy verified,
as ``By=…;Hash=…;Subject="CN=…,O=…";URI=…;Cert="<PEM, percent-encoded>"``. A service's
certificate names a service; a person's names the person: an ICP-Brasil e-CPF's common
name is ``MARIA SOUZA:52998224725``. A subject's common name that reads as a person's
name is replaced, and then the certificate and chain too (they hold that subject in
DER, which no text reader sees); a service's XFCC is read as any text.
"""

from __future__ import annotations

import re

from ext_proc_server.sanitize import fields
from ext_proc_server.sanitize.hits import Hit, resolve
from ext_proc_server.sanitize.run import Run, is_token
from ext_proc_server.sanitize.urls import scrub_with_urls

CLIENT_CERT_HEADER = "x-forwarded-client-cert"
# A subject's common name, up to the next attribute (",", "+") or an e-CPF's ":".
_SUBJECT_CN = re.compile(r'(?i:subject)="(?:[^"\\]|\\.)*?\b(?i:cn)=([^,+";:\\]+)')
_CERTIFICATE = re.compile(r'(?i:\b(?:cert|chain))="([^"]*)"')


def sanitize_client_cert(run: Run, value: str) -> str:
    hits = []
    for m in _SUBJECT_CN.finditer(value):
        name = m.group(1).strip()
        if name and not is_token(name) and fields.value_fits(fields.MAYBE_NAME, name):
            start = m.start(1) + m.group(1).index(name)
            hits.append(Hit(start, start + len(name), "name"))
    if not hits:
        return scrub_with_urls(run, value)
    hits += [Hit(*m.span(1), "api_key") for m in _CERTIFICATE.finditer(value) if m.group(1)]
    return run.scrub(value, resolve([*run.scanner.find(value), *hits]))
