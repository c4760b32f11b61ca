import { jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { PROBE_CODE } from '../../../actions/deploy/server/app-database.js';
import { parsePlan, type MigrationPlan } from '../../../actions/deploy/server/migration-safety.js';
import { djangoManage } from '../../testbed/django-app.js';
import { startMariaDB, type MariaDBServer } from '../../testbed/mariadb.js';
import { startPostgres, type PostgresServer } from '../../testbed/postgres.js';
import { makeTempDir } from '../../testbed/process.js';
import { PLAN_PROBE_CODE } from '../../../actions/deploy/server/migration-safety.js';

/**
 * The verdicts of the plan probe, one pending migration per operation, on Debian's Django 3.2 against a real
 * PostgreSQL and a real MariaDB: the probe runs the way the deploy runs it (`manage.py shell -c`, settings from
 * DATABASE_URL), with 0001 applied and everything after it pending.
 */

jest.setTimeout(180_000);

const SETTINGS = `import os
from urllib.parse import unquote, urlparse

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = os.environ.get('SECRET_KEY', 'dev-only')
DEBUG = False
ALLOWED_HOSTS = ['*']
INSTALLED_APPS = ['shop']
USE_TZ = True
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'

_url = urlparse(os.environ['DATABASE_URL'])
DATABASES = {
    'default': {
        'ENGINE': {'postgres': 'django.db.backends.postgresql', 'mysql': 'django.db.backends.mysql'}[_url.scheme],
        'NAME': _url.path.lstrip('/'),
        'USER': unquote(_url.username or ''),
        'PASSWORD': unquote(_url.password or ''),
        'HOST': _url.hostname or '',
        'PORT': str(_url.port or ''),
    }
}
`;

const MANAGE = `#!/usr/bin/env python3
import os
import sys

if __name__ == '__main__':
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
`;

const INITIAL = `from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name='Shop',
            fields=[
                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=50)),
                ('city', models.CharField(max_length=50, null=True)),
                ('note', models.TextField(null=True)),
                ('legacy', models.CharField(max_length=20, null=True)),
                ('visits', models.IntegerField(default=0)),
            ],
        ),
    ]
`;

/** One operation per migration, in this order, with what the probe must say on each database. */
const CASES: { name: string; code: string; imports?: string; extra?: string; postgresql: string; mysql: string }[] = [
  {
    name: 'create_model',
    code: "migrations.CreateModel(name='Basket', fields=[('id', models.AutoField(primary_key=True, serialize=False))])",
    postgresql: 'safe',
    mysql: 'safe',
  },
  {
    name: 'add_nullable',
    code: "migrations.AddField(model_name='shop', name='phone', field=models.CharField(max_length=20, null=True))",
    postgresql: 'safe',
    mysql: 'safe',
  },
  {
    name: 'add_not_null_default',
    code: "migrations.AddField(model_name='shop', name='rating', field=models.IntegerField(default=0))",
    postgresql: 'breaking',
    mysql: 'breaking',
  },
  {
    name: 'add_not_null_one_off',
    code: "migrations.AddField(model_name='shop', name='code', field=models.CharField(default='x', max_length=10), preserve_default=False)",
    postgresql: 'breaking',
    mysql: 'breaking',
  },
  {
    name: 'add_many_to_many',
    code: "migrations.AddField(model_name='shop', name='baskets', field=models.ManyToManyField(to='shop.Basket'))",
    postgresql: 'safe',
    mysql: 'safe',
  },
  {
    name: 'widen',
    code: "migrations.AlterField(model_name='shop', name='name', field=models.CharField(max_length=100))",
    postgresql: 'safe',
    mysql: 'safe',
  },
  {
    name: 'narrow',
    code: "migrations.AlterField(model_name='shop', name='name', field=models.CharField(max_length=80))",
    postgresql: 'breaking',
    mysql: 'breaking',
  },
  {
    name: 'set_not_null',
    code: "migrations.AlterField(model_name='shop', name='city', field=models.CharField(default='', max_length=50))",
    postgresql: 'breaking',
    mysql: 'breaking',
  },
  {
    name: 'drop_not_null',
    code: "migrations.AlterField(model_name='shop', name='city', field=models.CharField(max_length=50, null=True))",
    postgresql: 'safe',
    mysql: 'safe',
  },
  {
    name: 'change_type',
    code: "migrations.AlterField(model_name='shop', name='visits', field=models.BigIntegerField(default=0))",
    postgresql: 'breaking',
    mysql: 'breaking',
  },
  {
    name: 'help_text',
    code: "migrations.AlterField(model_name='shop', name='note', field=models.TextField(null=True, help_text='Shown to staff'))",
    postgresql: 'safe',
    mysql: 'safe',
  },
  {
    name: 'add_index',
    code: "migrations.AddIndex(model_name='shop', index=models.Index(fields=['name'], name='shop_name_idx'))",
    postgresql: 'breaking',
    mysql: 'safe',
  },
  {
    name: 'add_index_concurrently',
    imports: 'from django.contrib.postgres.operations import AddIndexConcurrently',
    extra: '    atomic = False',
    code: "AddIndexConcurrently(model_name='shop', index=models.Index(fields=['city'], name='shop_city_idx'))",
    postgresql: 'safe',
    mysql: 'safe',
  },
  {
    name: 'unique_constraint',
    code: "migrations.AddConstraint(model_name='shop', constraint=models.UniqueConstraint(fields=['name', 'city'], name='shop_name_city'))",
    postgresql: 'breaking',
    mysql: 'safe',
  },
  {
    name: 'check_constraint',
    code: "migrations.AddConstraint(model_name='shop', constraint=models.CheckConstraint(check=models.Q(visits__gte=0), name='shop_visits_positive'))",
    postgresql: 'breaking',
    mysql: 'breaking',
  },
  {
    name: 'remove_index',
    code: "migrations.RemoveIndex(model_name='shop', name='shop_name_idx')",
    postgresql: 'safe',
    mysql: 'safe',
  },
  {
    name: 'options',
    code: "migrations.AlterModelOptions(name='shop', options={'ordering': ['name']})",
    postgresql: 'safe',
    mysql: 'safe',
  },
  {
    name: 'run_python',
    code: 'migrations.RunPython(fill)',
    extra: '',
    postgresql: 'breaking',
    mysql: 'breaking',
  },
  {
    name: 'run_python_marked',
    code: "migrations.RunPython(fill, migrations.RunPython.noop, hints={'zero_downtime': True})",
    postgresql: 'safe',
    mysql: 'safe',
  },
  {
    name: 'run_sql',
    code: "migrations.RunSQL('UPDATE shop_shop SET visits = 0 WHERE visits IS NULL')",
    postgresql: 'breaking',
    mysql: 'breaking',
  },
  {
    name: 'run_sql_noop',
    code: 'migrations.RunSQL(migrations.RunSQL.noop, migrations.RunSQL.noop)',
    postgresql: 'safe',
    mysql: 'safe',
  },
  {
    name: 'remove_field',
    code: "migrations.RemoveField(model_name='shop', name='legacy')",
    postgresql: 'breaking',
    mysql: 'breaking',
  },
  {
    name: 'rename_field',
    code: "migrations.RenameField(model_name='shop', old_name='note', new_name='remark')",
    postgresql: 'breaking',
    mysql: 'breaking',
  },
  {
    name: 'delete_marked',
    code: "migrations.DeleteModel(name='Basket')",
    extra: '    zero_downtime = True',
    postgresql: 'safe',
    mysql: 'safe',
  },
  {
    name: 'rename_model',
    code: "migrations.RenameModel(old_name='Shop', new_name='Store')",
    postgresql: 'breaking',
    mysql: 'breaking',
  },
  {
    name: 'delete_model',
    code: "migrations.DeleteModel(name='Store')",
    postgresql: 'breaking',
    mysql: 'breaking',
  },
];

function writeProject(dir: string): void {
  fs.mkdirSync(path.join(dir, 'config'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'shop', 'migrations'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'manage.py'), MANAGE);
  fs.writeFileSync(path.join(dir, 'config', '__init__.py'), '');
  fs.writeFileSync(path.join(dir, 'config', 'settings.py'), SETTINGS);
  fs.writeFileSync(path.join(dir, 'shop', '__init__.py'), '');
  fs.writeFileSync(path.join(dir, 'shop', 'models.py'), 'from django.db import models  # noqa: F401\n');
  fs.writeFileSync(path.join(dir, 'shop', 'migrations', '__init__.py'), '');
  fs.writeFileSync(path.join(dir, 'shop', 'migrations', '0001_initial.py'), INITIAL);
  let previous = '0001_initial';
  CASES.forEach((c, i) => {
    const name = `${String(i + 2).padStart(4, '0')}_${c.name}`;
    fs.writeFileSync(
      path.join(dir, 'shop', 'migrations', `${name}.py`),
      [
        'from django.db import migrations, models',
        c.imports ?? '',
        '',
        '',
        'def fill(apps, schema_editor):',
        "    apps.get_model('shop', 'Shop').objects.filter(city=None).update(city='Paris')",
        '',
        '',
        'class Migration(migrations.Migration):',
        c.extra ?? '',
        `    dependencies = [('shop', '${previous}')]`,
        `    operations = [${c.code}]`,
        '',
      ].join('\n'),
    );
    previous = name;
  });
}

let dir: string;
let pg: PostgresServer;
let maria: MariaDBServer;

beforeAll(async () => {
  dir = makeTempDir('migration-safety');
  writeProject(dir);
  [pg, maria] = await Promise.all([startPostgres(), startMariaDB()]);
  await Promise.all([pg.createDatabase('shop'), maria.createDatabase('shop')]);
}, 120_000);

afterAll(async () => {
  await Promise.all([pg?.stop(), maria?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function probe(databaseUrl: string): Promise<MigrationPlan> {
  const env = { DATABASE_URL: databaseUrl };
  const migrated = await djangoManage(['migrate', '--noinput', 'shop', '0001'], { projectDir: dir, env });
  expect(migrated.stderr).toBe('');
  const result = await djangoManage(['shell', '-c', `${PROBE_CODE}\n${PLAN_PROBE_CODE}`], { projectDir: dir, env });
  expect(result.stderr).toBe('');
  return parsePlan(result.stdout);
}

const verdicts = (plan: MigrationPlan) =>
  Object.fromEntries(plan.operations.map((o) => [o.migration.replace(/^shop\.\d{4}_/, ''), o.verdict]));

test.each(['postgresql', 'mysql'] as const)('each operation gets its verdict on %s', async (vendor) => {
  const url = vendor === 'postgresql' ? pg.url('shop') : maria.url('shop');
  const plan = await probe(url);
  expect(plan.vendor).toBe(vendor);
  expect(plan.django).toMatch(/^3\.2\./);
  expect(plan.pending).toHaveLength(CASES.length);
  expect(verdicts(plan)).toEqual(Object.fromEntries(CASES.map((c) => [c.name, c[vendor]])));
  const reason = (name: string) => plan.operations.find((o) => o.migration.endsWith(`_${name}`))?.reason;
  // Django 3.2 drops the default once the column exists: said in the reason, with the way out.
  expect(reason('add_not_null_default')).toMatch(/Django 3\.2\.\d+ applies the default only while adding the column/);
  expect(reason('run_python_marked')).toContain("hints={'zero_downtime': True}");
  expect(reason('delete_marked')).toMatch(/^marked safe by its migration \(zero_downtime = True\); otherwise: /);
  expect(reason('change_type')).toContain('IntegerField to BigIntegerField');
  // Reading the plan applied nothing.
  const applied =
    vendor === 'postgresql'
      ? await pg.sql("SELECT count(*) FROM django_migrations WHERE app = 'shop'", 'shop')
      : await maria.sql("SELECT count(*) FROM django_migrations WHERE app = 'shop'", 'shop');
  expect(applied.trim()).toBe('1');
});
