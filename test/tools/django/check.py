#!/usr/bin/env python3
"""Django's migrations against a PostgreSQL-wire server, unmodified and with
Django's default settings: migrate (contenttypes, auth and an app with a
foreign key, a many-to-many, unique_together, an ALTER COLUMN TYPE and an
ADD COLUMN with a default), CRUD through the ORM, then migrate back to zero.
Reads PGHOST/PGPORT/PGUSER/PGPASSWORD. Prints ok/not ok lines; exit 1 on a
failure."""
import os
import sys
import traceback
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, IntegrityError, transaction  # noqa: E402

failed = 0
passed = 0


def check(name, fn):
    global failed, passed
    try:
        fn()
        passed += 1
        print(f"ok - {name}", flush=True)
    except Exception as e:  # noqa: BLE001
        failed += 1
        print(f"not ok - {name}: {type(e).__name__}: {e}", flush=True)
        if os.environ.get("CLIENT_TEST_VERBOSE"):
            traceback.print_exc()


def tables():
    with connection.cursor() as c:
        return set(connection.introspection.table_names(c))


def clean():
    # A previous run's leftovers: Django's own bookkeeping and the app.
    with connection.cursor() as c:
        for t in sorted(tables()):
            if t.startswith(("shop_", "auth_", "django_")):
                c.execute(f'DROP TABLE IF EXISTS "{t}" CASCADE')


def migrate():
    call_command("migrate", verbosity=0, interactive=False)
    want = {"django_migrations", "django_content_type", "auth_user", "shop_author", "shop_book", "shop_tag", "shop_book_tags"}
    missing = want - tables()
    assert not missing, f"tables missing after migrate: {missing}"
    # Django checks what it applied through the catalog on the next run.
    call_command("migrate", verbosity=0, interactive=False)


def crud():
    from shop.models import Author, Book, Tag

    a = Author.objects.create(name="Ursula", email="u@example.com")
    t1, t2 = Tag.objects.create(label="sf"), Tag.objects.create(label="classic")
    b = Book.objects.create(title="The Dispossessed", author=a, price=Decimal("12.50"), isbn="9780061054884")
    b.tags.add(t1, t2)
    b2 = Book.objects.create(title="The Lathe of Heaven", author=a, price=Decimal("9.99"))
    assert Book.objects.filter(author__name="Ursula").count() == 2
    assert set(Book.objects.get(pk=b.pk).tags.values_list("label", flat=True)) == {"sf", "classic"}
    assert Book.objects.get(pk=b.pk).price == Decimal("12.50")
    Book.objects.filter(pk=b2.pk).update(pages=184)
    assert Book.objects.get(pk=b2.pk).pages == 184
    assert Author.objects.get(pk=a.pk).email == "u@example.com"
    try:
        with transaction.atomic():
            Book.objects.create(title="The Dispossessed", author=a, price=Decimal("1.00"))
        raise AssertionError("unique_together was not enforced")
    except IntegrityError:
        pass
    a.delete()  # cascades to the books and their tags
    assert Book.objects.count() == 0
    assert Tag.objects.count() == 2


def migrate_zero():
    call_command("migrate", "shop", "zero", verbosity=0, interactive=False)
    left = {t for t in tables() if t.startswith("shop_")}
    assert not left, f"shop tables left after migrate zero: {left}"
    call_command("migrate", "shop", verbosity=0, interactive=False)  # and up again
    assert "shop_book_tags" in tables()


check("clean", clean)
check("migrate", migrate)
check("crud", crud)
check("migrate zero and up again", migrate_zero)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
