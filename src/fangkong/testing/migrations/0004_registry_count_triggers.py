"""Triggers that keep coverage's "should test" side exact as the registry changes.

``testing_registrycount`` holds persons per region code and category; triggers on
``people_person`` adjust it in the writing transaction, whatever path writes (services,
the bulk import's COPY, bulk_create, the admin, raw SQL). When a person moves, the same
trigger moves their round tallies (``testing_coveragecount``) and the denormalised
``region_code`` of their samples and exemptions, so coverage stays "by where people live
now". A trigger on ``testing_sample`` deletes takes deleted samples (a person deleted,
a round deleted) off the tallies.

PostgreSQL: statement-level triggers with transition tables, one set-based statement per
write statement (a COPY of a million persons is one GROUP BY, not a million updates); rows
of the tallies are locked in key order before decrementing, as the ingestion's upsert does,
so two writers cannot deadlock on them. SQLite: row-level triggers doing the same.
"""

from django.db import migrations

# -- PostgreSQL ------------------------------------------------------------------------------

# Deltas are applied in two steps: rows that gain are upserted in key order; rows that lose
# are locked in key order and updated (an upsert proposing a negative count would trip the
# tallies' CHECK (>= 0) before ON CONFLICT takes over).
_PG_APPLY_REGISTRY = """
    INSERT INTO testing_registrycount AS c (region_code, category, persons)
    SELECT region_code, category, k FROM pg_temp.testing_registry_delta WHERE k > 0
    ORDER BY region_code, category
    ON CONFLICT (region_code, category) DO UPDATE SET persons = c.persons + EXCLUDED.persons;
    PERFORM 1 FROM testing_registrycount c JOIN pg_temp.testing_registry_delta d
        ON d.region_code = c.region_code AND d.category = c.category AND d.k < 0
    ORDER BY c.region_code, c.category FOR UPDATE OF c;
    UPDATE testing_registrycount c SET persons = c.persons + d.k
    FROM pg_temp.testing_registry_delta d
    WHERE d.k < 0 AND d.region_code = c.region_code AND d.category = c.category;
    DROP TABLE pg_temp.testing_registry_delta;
"""

PG_FORWARD = f"""
CREATE FUNCTION testing_registry_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO testing_registrycount AS c (region_code, category, persons)
    SELECT region_code, category, count(*) FROM new_persons GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (region_code, category) DO UPDATE SET persons = c.persons + EXCLUDED.persons;
    RETURN NULL;
END $$;

CREATE FUNCTION testing_registry_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMPORARY TABLE testing_registry_delta ON COMMIT DROP AS
    SELECT region_code, category, -count(*) AS k FROM old_persons GROUP BY 1, 2;
    {_PG_APPLY_REGISTRY}
    RETURN NULL;
END $$;

CREATE FUNCTION testing_registry_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Most updates (a phone number, a version) change neither key: nothing to do.
    IF NOT EXISTS (SELECT 1 FROM new_persons n JOIN old_persons o ON o.id = n.id
                   WHERE n.region_code <> o.region_code OR n.category <> o.category) THEN
        RETURN NULL;
    END IF;
    CREATE TEMPORARY TABLE testing_registry_delta ON COMMIT DROP AS
    SELECT region_code, category, sum(k) AS k FROM (
        SELECT n.region_code, n.category, 1 AS k FROM new_persons n JOIN old_persons o
            ON o.id = n.id WHERE n.region_code <> o.region_code OR n.category <> o.category
        UNION ALL
        SELECT o.region_code, o.category, -1 FROM new_persons n JOIN old_persons o
            ON o.id = n.id WHERE n.region_code <> o.region_code OR n.category <> o.category
    ) d GROUP BY 1, 2 HAVING sum(k) <> 0;
    {_PG_APPLY_REGISTRY}

    -- Persons who moved take their round samples' tallies along.
    CREATE TEMPORARY TABLE testing_moved_tally ON COMMIT DROP AS
    SELECT campaign_id, region_code, sum(k)::integer AS k, sum(r)::integer AS r FROM (
        SELECT s.campaign_id, x.code AS region_code, x.k, x.k * (t.result IS NOT NULL)::int AS r
        FROM new_persons n JOIN old_persons o ON o.id = n.id
        JOIN testing_sample s ON s.person_id = n.id AND s.attempt = 0
        JOIN testing_tube t ON t.id = s.tube_id
        CROSS JOIN LATERAL (VALUES (n.region_code, 1), (o.region_code, -1)) x (code, k)
        WHERE n.region_code <> o.region_code
    ) d GROUP BY 1, 2;
    INSERT INTO testing_coveragecount AS c (campaign_id, region_code, tested, resulted)
    SELECT campaign_id, region_code, k, r FROM testing_moved_tally WHERE k > 0
    ORDER BY campaign_id, region_code
    ON CONFLICT (campaign_id, region_code) DO UPDATE
    SET tested = c.tested + EXCLUDED.tested, resulted = c.resulted + EXCLUDED.resulted;
    PERFORM 1 FROM testing_coveragecount c JOIN testing_moved_tally d
        ON d.campaign_id = c.campaign_id AND d.region_code = c.region_code AND d.k < 0
    ORDER BY c.campaign_id, c.region_code FOR UPDATE OF c;
    UPDATE testing_coveragecount c SET tested = c.tested + d.k, resulted = c.resulted + d.r
    FROM testing_moved_tally d
    WHERE d.k < 0 AND d.campaign_id = c.campaign_id AND d.region_code = c.region_code;
    DROP TABLE pg_temp.testing_moved_tally;

    UPDATE testing_sample s SET region_code = n.region_code
    FROM new_persons n JOIN old_persons o ON o.id = n.id
    WHERE n.region_code <> o.region_code AND s.person_id = n.id;
    UPDATE testing_exemption e SET region_code = n.region_code
    FROM new_persons n JOIN old_persons o ON o.id = n.id
    WHERE n.region_code <> o.region_code AND e.person_id = n.id;
    RETURN NULL;
END $$;

CREATE FUNCTION testing_samples_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMPORARY TABLE testing_deleted_tally ON COMMIT DROP AS
    SELECT o.campaign_id, o.region_code, count(*)::integer AS k, count(t.result)::integer AS r
    FROM old_samples o LEFT JOIN testing_tube t ON t.id = o.tube_id
    WHERE o.attempt = 0 GROUP BY 1, 2;
    PERFORM 1 FROM testing_coveragecount c JOIN testing_deleted_tally d
        ON d.campaign_id = c.campaign_id AND d.region_code = c.region_code
    ORDER BY c.campaign_id, c.region_code FOR UPDATE OF c;
    UPDATE testing_coveragecount c SET tested = c.tested - d.k, resulted = c.resulted - d.r
    FROM testing_deleted_tally d
    WHERE d.campaign_id = c.campaign_id AND d.region_code = c.region_code;
    DROP TABLE pg_temp.testing_deleted_tally;
    RETURN NULL;
END $$;

CREATE TRIGGER testing_registry_inserted AFTER INSERT ON people_person
    REFERENCING NEW TABLE AS new_persons
    FOR EACH STATEMENT EXECUTE FUNCTION testing_registry_inserted();
CREATE TRIGGER testing_registry_deleted AFTER DELETE ON people_person
    REFERENCING OLD TABLE AS old_persons
    FOR EACH STATEMENT EXECUTE FUNCTION testing_registry_deleted();
CREATE TRIGGER testing_registry_updated AFTER UPDATE ON people_person
    REFERENCING OLD TABLE AS old_persons NEW TABLE AS new_persons
    FOR EACH STATEMENT EXECUTE FUNCTION testing_registry_updated();
CREATE TRIGGER testing_samples_deleted AFTER DELETE ON testing_sample
    REFERENCING OLD TABLE AS old_samples
    FOR EACH STATEMENT EXECUTE FUNCTION testing_samples_deleted();
"""

PG_REVERSE = """
DROP TRIGGER IF EXISTS testing_samples_deleted ON testing_sample;
DROP TRIGGER IF EXISTS testing_registry_updated ON people_person;
DROP TRIGGER IF EXISTS testing_registry_deleted ON people_person;
DROP TRIGGER IF EXISTS testing_registry_inserted ON people_person;
DROP FUNCTION IF EXISTS testing_samples_deleted();
DROP FUNCTION IF EXISTS testing_registry_updated();
DROP FUNCTION IF EXISTS testing_registry_deleted();
DROP FUNCTION IF EXISTS testing_registry_inserted();
"""

# -- SQLite ----------------------------------------------------------------------------------

_SQLITE_SAMPLED = "SELECT campaign_id FROM testing_sample WHERE person_id = NEW.id AND attempt = 0"
_SQLITE_RESULTED = (
    "(SELECT count(t.result) FROM testing_sample s JOIN testing_tube t ON t.id = s.tube_id"
    " WHERE s.campaign_id = testing_coveragecount.campaign_id AND s.person_id = NEW.id"
    " AND s.attempt = 0)"
)

SQLITE_FORWARD = [
    """CREATE TRIGGER testing_registry_inserted AFTER INSERT ON people_person BEGIN
        INSERT OR IGNORE INTO testing_registrycount (region_code, category, persons)
        VALUES (NEW.region_code, NEW.category, 0);
        UPDATE testing_registrycount SET persons = persons + 1
        WHERE region_code = NEW.region_code AND category = NEW.category;
    END""",
    """CREATE TRIGGER testing_registry_deleted AFTER DELETE ON people_person BEGIN
        UPDATE testing_registrycount SET persons = persons - 1
        WHERE region_code = OLD.region_code AND category = OLD.category;
    END""",
    """CREATE TRIGGER testing_registry_updated AFTER UPDATE OF region_code, category
    ON people_person
    WHEN OLD.region_code IS NOT NEW.region_code OR OLD.category IS NOT NEW.category BEGIN
        UPDATE testing_registrycount SET persons = persons - 1
        WHERE region_code = OLD.region_code AND category = OLD.category;
        INSERT OR IGNORE INTO testing_registrycount (region_code, category, persons)
        VALUES (NEW.region_code, NEW.category, 0);
        UPDATE testing_registrycount SET persons = persons + 1
        WHERE region_code = NEW.region_code AND category = NEW.category;
    END""",
    f"""CREATE TRIGGER testing_person_moved AFTER UPDATE OF region_code ON people_person
    WHEN OLD.region_code IS NOT NEW.region_code BEGIN
        UPDATE testing_coveragecount
        SET tested = tested - 1, resulted = resulted - {_SQLITE_RESULTED}
        WHERE region_code = OLD.region_code AND campaign_id IN ({_SQLITE_SAMPLED});
        INSERT OR IGNORE INTO testing_coveragecount (campaign_id, region_code, tested, resulted)
        SELECT campaign_id, NEW.region_code, 0, 0 FROM testing_sample
        WHERE person_id = NEW.id AND attempt = 0;
        UPDATE testing_coveragecount
        SET tested = tested + 1, resulted = resulted + {_SQLITE_RESULTED}
        WHERE region_code = NEW.region_code AND campaign_id IN ({_SQLITE_SAMPLED});
        UPDATE testing_sample SET region_code = NEW.region_code WHERE person_id = NEW.id;
        UPDATE testing_exemption SET region_code = NEW.region_code WHERE person_id = NEW.id;
    END""",
    """CREATE TRIGGER testing_samples_deleted AFTER DELETE ON testing_sample
    WHEN OLD.attempt = 0 BEGIN
        UPDATE testing_coveragecount SET tested = tested - 1,
            resulted = resulted - (SELECT count(result) FROM testing_tube WHERE id = OLD.tube_id)
        WHERE campaign_id = OLD.campaign_id AND region_code = OLD.region_code;
    END""",
]

SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "testing_samples_deleted", "testing_person_moved", "testing_registry_updated",
        "testing_registry_deleted", "testing_registry_inserted",
    )
]

FILL = """
INSERT INTO testing_registrycount (region_code, category, persons)
SELECT region_code, category, count(*) FROM people_person GROUP BY region_code, category
"""


def install(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            # No person may be written between the count and the triggers taking over.
            cursor.execute("LOCK TABLE people_person IN SHARE MODE")
            cursor.execute(PG_FORWARD)
        else:
            for statement in SQLITE_FORWARD:
                cursor.execute(statement)
        cursor.execute("DELETE FROM testing_registrycount")
        cursor.execute(FILL)


def uninstall(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(PG_REVERSE)
        else:
            for statement in SQLITE_REVERSE:
                cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("testing", "0003_registry_count"),
        ("people", "0003_search_columns_c_collation"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
