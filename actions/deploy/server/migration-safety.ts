import { ActionFailure } from '../../shared/errors.js';
import type { MaintenanceMode } from '../inputs.js';

/**
 * Which pending migrations the code serving now survives. The release's own Django reads the plan `migrate` would
 * run and judges each operation against the state before it; the deploy then needs maintenance (with
 * `maintenance: auto`) only when one of them would break the old code while it keeps serving.
 */

export type Verdict = 'safe' | 'breaking';

export interface PlannedOperation {
  /** `app.0002_name` */
  migration: string;
  /** The operation's class, e.g. AddField. */
  operation: string;
  /** Django's own words for it (`Operation.describe()`). */
  description: string;
  verdict: Verdict;
  reason: string;
}

export interface MigrationPlan {
  /** The migrations `migrate` would apply, in order. */
  pending: string[];
  operations: PlannedOperation[];
  /** Django's version and the database vendor the verdicts were made for. */
  django: string;
  vendor: string;
}

/** The line the probe prints, so whatever else the settings print on import is ignored. */
export const PLAN_MARKER = 'runbook-plan ';
export const PLAN_ERROR_MARKER = 'runbook-plan-error ';

/**
 * Python run by `manage.py shell -c` after the database probe: the plan of `migrate` (leaf nodes, as `migrate
 * --plan` builds it), and a verdict per operation. The rules are those of django-migration-linter, strong_migrations
 * and GitLab's migration style guide, narrowed to one question: does the code serving now keep working while, and
 * after, this operation runs? Anything not known to be safe is breaking. Only reads: the migration table is queried,
 * nothing is written.
 */
export const PLAN_PROBE_CODE = String.raw`
def runbook_plan():
    import django
    from django.db import connections
    from django.db.migrations import operations as ops
    from django.db.migrations.executor import MigrationExecutor
    from django.db.models.fields import NOT_PROVIDED
    connection = connections['default']
    vendor = connection.vendor
    executor = MigrationExecutor(connection)
    conflicts = executor.loader.detect_conflicts()
    if conflicts:
        raise RuntimeError('Conflicting migrations detected: ' + '; '.join('%s: %s' % (app, ', '.join(names)) for app, names in sorted(conflicts.items())))
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    state = executor._create_project_state(with_applied_migrations=True)
    try:
        from django.contrib.postgres import operations as pg_ops
        concurrent = (pg_ops.AddIndexConcurrently, pg_ops.RemoveIndexConcurrently)
        extension = pg_ops.CreateExtension
    except Exception:
        concurrent, extension = (), ()
    no_db = {'help_text', 'verbose_name', 'choices', 'validators', 'blank', 'editable', 'error_messages', 'default',
             'related_name', 'related_query_name', 'limit_choices_to', 'on_delete', 'auto_now', 'auto_now_add',
             'upload_to', 'storage', 'serialize'}
    safe = lambda why: ('safe', why)
    breaking = lambda why: ('breaking', why)

    def index(what, unique=False):
        also = '; a unique index also refuses the serving code a duplicate' if unique else ''
        if vendor == 'postgresql':
            return breaking(what + ': PostgreSQL builds it without CONCURRENTLY, so writes to the table wait until it is built' + also + '; use AddIndexConcurrently (atomic = False), or mark the migration zero_downtime for a small table')
        if vendor == 'mysql':
            return safe(what + ': InnoDB builds it online, reads and writes go on' + also)
        return safe(what + ' on ' + vendor)

    def field_of(app_label, model_name, name):
        model = state.models.get((app_label, model_name))
        if model is None:
            return None
        fields = model.fields if isinstance(model.fields, dict) else dict(model.fields)
        return fields.get(name)

    def alter_field(old, new):
        if old is None:
            return breaking('the field is unknown before this migration')
        _, old_path, _, old_kw = old.deconstruct()
        _, new_path, _, new_kw = new.deconstruct()
        if old_path != new_path:
            return breaking('the column type changes (%s to %s): the serving code reads and writes the old type, and the table is rewritten under a lock' % (old_path.rsplit('.', 1)[-1], new_path.rsplit('.', 1)[-1]))
        changed = sorted(k for k in set(old_kw) | set(new_kw) if k not in no_db and old_kw.get(k, NOT_PROVIDED) != new_kw.get(k, NOT_PROVIDED))
        verdicts = []
        for key in changed:
            if key == 'null':
                verdicts.append(safe('NULL allowed from now on') if new.null else breaking('NOT NULL from now on: the serving code may still write NULL, and the table is scanned under a lock'))
            elif key == 'max_length' and old.max_length is not None and (new.max_length is None or new.max_length > old.max_length):
                verdicts.append(safe('max_length grows (%s to %s): what the serving code writes still fits' % (old.max_length, new.max_length)))
            elif key in ('db_index', 'unique'):
                verdicts.append(index('an index on the column', key == 'unique') if new_kw.get(key) else safe('an index is dropped'))
            else:
                verdicts.append(breaking('%s changes (%r to %r)' % (key, old_kw.get(key, 'default'), new_kw.get(key, 'default'))))
        if not verdicts:
            return safe('no database change (%s)' % (', '.join(sorted(k for k in set(old_kw) | set(new_kw) if old_kw.get(k, NOT_PROVIDED) != new_kw.get(k, NOT_PROVIDED))) or 'nothing changes'))
        bad = [why for verdict, why in verdicts if verdict == 'breaking']
        return breaking('; '.join(bad)) if bad else safe('; '.join(why for _, why in verdicts))

    def judge(app_label, op, migration):
        if isinstance(op, ops.CreateModel):
            return safe('a new table the serving code does not use')
        if isinstance(op, ops.DeleteModel):
            return breaking('the serving code still uses the table: delete the model in a release after the one that stops using it')
        if isinstance(op, ops.AddField):
            field = op.field
            if field.many_to_many:
                return safe('a new join table the serving code does not use')
            if field.null:
                return safe("a nullable column: the serving code's INSERTs leave it NULL")
            if getattr(field, 'db_default', NOT_PROVIDED) is not NOT_PROVIDED:
                return safe('NOT NULL with a database default (db_default): the serving code\'s INSERTs get it')
            if field.has_default() or not op.preserve_default or (field.blank and field.empty_strings_allowed):
                return breaking('NOT NULL, and Django %s applies the default only while adding the column (it keeps no database default): the serving code\'s INSERTs, which do not name the column, fail; add it with null=True first (or db_default on Django 5.0+)' % django.get_version())
            return breaking("NOT NULL without a database default: the serving code's INSERTs, which do not name the column, fail")
        if isinstance(op, ops.RemoveField):
            return breaking('the serving code still selects the column: stop using it in one release, remove it in the next')
        if isinstance(op, (ops.RenameField, ops.RenameModel, ops.AlterModelTable)):
            return breaking('the serving code still uses the old name: add the new one, copy, switch the code, then remove the old one')
        if isinstance(op, ops.AlterField):
            return alter_field(field_of(app_label, op.model_name_lower, op.name), op.field)
        if isinstance(op, (ops.AlterModelOptions, ops.AlterModelManagers)):
            return safe('no database change')
        if concurrent and isinstance(op, concurrent):
            return safe('built or dropped CONCURRENTLY: reads and writes go on')
        if extension and isinstance(op, extension):
            return safe('a database extension the serving code does not use')
        if isinstance(op, (ops.RemoveIndex, ops.RemoveConstraint)):
            return safe("dropping it does not break the serving code's queries")
        if isinstance(op, ops.AddIndex):
            return index('a new index')
        if isinstance(op, getattr(ops, 'AlterIndexTogether', ())):
            return index('index_together')
        if isinstance(op, ops.AlterUniqueTogether):
            return index('unique_together', True)
        if isinstance(op, ops.AddConstraint):
            if type(op.constraint).__name__ == 'UniqueConstraint' and not getattr(op.constraint, 'condition', None):
                return index('a unique constraint', True)
            return breaking('a new constraint is validated against the whole table under a lock, and the serving code may write rows it refuses')
        if isinstance(op, (ops.RunPython, ops.RunSQL)):
            noop = op.code is ops.RunPython.noop if isinstance(op, ops.RunPython) else op.sql in ('', [], ())
            if noop:
                return safe('does nothing going forward')
            if (op.hints or {}).get('zero_downtime') is True:
                return safe("marked safe by its author (hints={'zero_downtime': True})")
            return breaking("a data migration: what it does to the serving code cannot be read from it; mark it hints={'zero_downtime': True} when the serving code works before, during and after it")
        if isinstance(op, ops.SeparateDatabaseAndState):
            verdicts = [judge(app_label, inner, migration) for inner in op.database_operations]
            bad = [why for verdict, why in verdicts if verdict == 'breaking']
            if bad:
                return breaking('; '.join(bad))
            return safe('; '.join(why for _, why in verdicts) or 'changes the state only, not the database')
        return breaking('%s is not known to keep the serving code working' % type(op).__name__)

    pending, operations = [], []
    for migration, backwards in plan:
        name = '%s.%s' % (migration.app_label, migration.name)
        pending.append(name)
        marked = getattr(migration, 'zero_downtime', False) is True
        for op in migration.operations:
            try:
                verdict, reason = breaking('unapplies a migration') if backwards else judge(migration.app_label, op, migration)
            except Exception as error:
                verdict, reason = breaking('could not be judged (%s: %s)' % (type(error).__name__, error))
            if marked and verdict == 'breaking':
                verdict, reason = 'safe', 'marked safe by its migration (zero_downtime = True); otherwise: ' + reason
            try:
                description = op.describe()
            except Exception:
                description = type(op).__name__
            operations.append({'migration': name, 'operation': type(op).__name__, 'description': description, 'verdict': verdict, 'reason': reason})
            op.state_forwards(migration.app_label, state)
    return {'pending': pending, 'operations': operations, 'django': django.get_version(), 'vendor': vendor}

try:
    print('${PLAN_MARKER}' + json.dumps(runbook_plan()))
except Exception as error:
    print('${PLAN_ERROR_MARKER}' + json.dumps('%s: %s' % (type(error).__name__, error)))
`;

/** The plan the probe printed; throws with Django's own message when it could not read it. */
export function parsePlan(stdout: string): MigrationPlan {
  const lines = stdout.split('\n');
  const error = lines.find((l) => l.startsWith(PLAN_ERROR_MARKER));
  if (error)
    throw new ActionFailure(`Reading the migration plan failed: ${JSON.parse(error.slice(PLAN_ERROR_MARKER.length))}`);
  const line = lines.find((l) => l.startsWith(PLAN_MARKER));
  if (!line) throw new ActionFailure('Reading the migration plan failed: manage.py shell printed no plan.');
  const value = JSON.parse(line.slice(PLAN_MARKER.length)) as Partial<MigrationPlan>;
  return {
    pending: value.pending ?? [],
    operations: value.operations ?? [],
    django: value.django ?? '',
    vendor: value.vendor ?? '',
  };
}

export interface MaintenanceDecision {
  on: boolean;
  why: string;
}

/**
 * `true` and `false` mean what they say; `auto` turns maintenance on only when a pending operation would break the
 * code that keeps serving while (and after) the migrations run.
 */
export function decideMaintenance(
  mode: MaintenanceMode,
  plan: Pick<MigrationPlan, 'operations' | 'pending'>,
  serving = true,
): MaintenanceDecision {
  if (mode === 'true') return { on: true, why: 'maintenance: true' };
  if (mode === 'false') return { on: false, why: 'maintenance: false' };
  if (plan.pending.length === 0) return { on: false, why: 'no pending migration' };
  // Nothing of ours serves before a first deploy: no old code can meet the new schema.
  if (!serving) return { on: false, why: 'first deploy: no release serves yet, so no serving code can break' };
  const breaking = plan.operations.filter((o) => o.verdict === 'breaking');
  if (breaking.length > 0) {
    const names = [...new Set(breaking.map((o) => `${o.migration} (${o.operation})`))];
    return { on: true, why: `breaking for the serving code: ${names.join(', ')}` };
  }
  return { on: false, why: `every pending operation is safe while the serving code runs (${plan.operations.length})` };
}
