"""Fetch again from Mollie every payment still in flight, so that a missed webhook never
leaves an invoice unpaid (the app also does it every 5 minutes in the background).

    python -m simple_erp.reconcile [--older-than-minutes 5]

Prints the counts (checked, applied, unchanged, ignored, unknown, errors); exits 1 when
some payments could not be fetched (Mollie unreachable), 0 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import timedelta

from simple_erp import db
from simple_erp.services.mollie import payments as mollie_payments

LABELS = {
    "checked": "paiements vérifiés",
    "applied": "mis à jour",
    "unchanged": "inchangés",
    "ignored": "ignorés (voir le journal)",
    "unknown": "inconnus",
    "errors": "erreurs (Mollie injoignable…)",
    "skipped": "ignoré : une autre resynchronisation est en cours",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simple_erp.reconcile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--older-than-minutes", type=float, default=5.0,
                        help="only payments requested (and last synced) more than this long ago (default 5)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    counts = mollie_payments.reconcile(db.session_scope, timedelta(minutes=args.older_than_minutes))
    print("Resynchronisation Mollie")
    for key, value in counts.items():
        print(f"  {key:<10} {value:>6}  {LABELS.get(key, '')}")
    return 1 if counts.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
