// bench/duckdb_quantiles.mjs - the DuckDB baseline of the retrain benchmark.
//
//   node bench/duckdb_quantiles.mjs load  --csv FILE --db FILE [--threads N]
//   node bench/duckdb_quantiles.mjs query --db FILE [common options]
//   node bench/duckdb_quantiles.mjs all   --csv FILE [--runs R] [common options]
// common options: [--threads N] [--results FILE] [--check MODELS.txt[,...]]
//                 [--days D] [--alarms-per-week X] [--modules DIR]
//
// Loads the samples exported by `vigil-bench-export samples` (CSV d,c,t,v)
// into DuckDB (in-process, @duckdb/node-api; `load` into a database file,
// `all` into memory) and computes per (device, channel), in SQL, the
// statistics of shared/vg_fit.c that a SQL engine expresses directly:
//   n        number of samples;
//   loc      median (mean of the two middle values for an even n);
//   mad      median of |x - loc| (nearest rank, as vg_fit's selection);
//   scale    1.482602218505602 * mad (VG_MAD_TO_SIGMA);
//   z_q      the (1 - far) quantile (nearest rank) of |x - loc| / scale,
//            with far the per-sample false-alarm rate retrain uses:
//            alarms-per-week / (channels of the device * n / weeks), weeks =
//            days / 7, clamped to [1e-7, 1e-2] (batch/retrain.c rt__far);
//   z_q4     the same quantile at vg_fit's default far = 1e-4;
//   r_q      the (1 - far) quantile of |dx/dt| (units per second) between
//            consecutive samples in time order (a window LAG).
// Not computed: the EWMA and CUSUM thresholds (recursive statistics), the
// stuck run, the fleet prior and shrinkage, backtests, signing.
//
// `query` and `all` time the statistics (the group counts and the main
// query) separately from the load; `all` runs the query R times (3) and
// prints the median.  Each run prints a checksum over every result and a
// few rows; --results writes every row.  --check compares against each
// output of `vigil-bench-export model` given (a retrain's models): loc, scale,
// z_thr = max(1.25 z_q, 4), rate_max = 2 max(1.25 r_q, 1e-9); exact
// matches and the largest relative difference per field.
//
// The package is loaded from --modules DIR (default: build/bench-node of
// this checkout, filled by `npm install --prefix build/bench-node
// @duckdb/node-api`).  Exit status 0, 1 on a failure, 2 on a bad command
// line.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAD_TO_SIGMA = 1.482602218505602;
const FAR_MIN = 1e-7;
const FAR_MAX = 1e-2;

function usage() {
    process.stderr.write(
        'usage: duckdb_quantiles.mjs load|query|all [--csv FILE] [--db FILE] [--runs R] ' +
            '[--threads N] [--results FILE] [--check FILE] [--days D] [--alarms-per-week X] ' +
            '[--modules DIR]\n',
    );
    process.exit(2);
}

function parseArgs(argv) {
    const o = { mode: argv[0], runs: 3, days: 28, apw: 1 };
    const keys = {
        '--csv': 'csv', '--db': 'db', '--runs': 'runs', '--threads': 'threads',
        '--results': 'results', '--check': 'check', '--days': 'days',
        '--alarms-per-week': 'apw', '--modules': 'modules',
    };
    for (let i = 1; i < argv.length; i += 2) {
        const k = keys[argv[i]];
        if (!k || i + 1 >= argv.length) usage();
        o[k] = argv[i + 1];
    }
    o.runs = Number(o.runs);
    o.days = Number(o.days);
    o.apw = Number(o.apw);
    if (!['load', 'query', 'all'].includes(o.mode)) usage();
    if ((o.mode !== 'query' && !o.csv) || (o.mode !== 'all' && !o.db)) usage();
    if (!(o.runs >= 1) || !(o.days > 0) || !(o.apw > 0)) usage();
    const here = dirname(fileURLToPath(import.meta.url));
    o.modules = resolve(o.modules || join(here, '..', 'build', 'bench-node'));
    return o;
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

// Creates the table s(d, c, t, v) from the CSV export; returns its rows.
async function load(con, csv) {
    const path = csv.replaceAll("'", "''");
    await con.run(
        `CREATE OR REPLACE TABLE s AS SELECT * FROM read_csv('${path}', header = true, ` +
            `delim = ',', quote = '', escape = '', ` +
            `columns = {'d': 'VARCHAR', 'c': 'VARCHAR', 't': 'BIGINT', 'v': 'DOUBLE'})`,
    );
    const r = await con.runAndReadAll('SELECT count(*)::DOUBLE AS n FROM s');
    return r.getRowObjects()[0].n;
}

// The fraction that makes DuckDB's quantile_disc select the element of
// 0-based index rank - 1, rank = ceil(q * n) as vg_fit's nearest rank:
// DuckDB takes index max(1, n - floor(n - n * f)) - 1.
function rankFraction(q, n) {
    const rank = Math.max(1, Math.ceil(q * n));
    return (rank - 0.5) / n;
}

// retrain's per-sample false-alarm rate for n samples of a device with
// nchan channels (batch/retrain.c rt__far, same operation order).
function retrainFar(o, n, nchan) {
    const usPerDay = 86400000000;
    const weeks = Math.trunc(o.days * usPerDay) / (7 * usPerDay);
    const perWeek = weeks > 0 ? n / weeks : n;
    const far = o.apw / ((nchan ? nchan : 1) * (perWeek > 1 ? perWeek : 1));
    return far < FAR_MIN ? FAR_MIN : far > FAR_MAX ? FAR_MAX : far;
}

// Adds the fraction f to list L (deduplicated); returns its 1-based index.
function listIndex(L, f) {
    let i = L.indexOf(f);
    if (i < 0) i = L.push(f) - 1;
    return i + 1;
}

const sqlList = (L) => `[${L.map((x) => x.toPrecision(17)).join(', ')}]`;

// One timed run of the statistics; returns { secs, rows }.
async function query(con, o) {
    const t0 = now();
    const g = await con.runAndReadAll(
        'SELECT d, c, count(*)::DOUBLE AS n, (count(*) OVER (PARTITION BY d))::DOUBLE AS nchan ' +
            'FROM s GROUP BY d, c ORDER BY d, c',
    );
    const groups = g.getRowObjects();
    // Quantile fractions must be constants: one list per statistic, and
    // per group the index of its own fraction in that list.
    const Lz = [], L4 = [], Lr = [];
    const idx = groups.map((x) => {
        const q = 1.0 - retrainFar(o, x.n, x.nchan);
        return [x.d, x.c, listIndex(Lz, rankFraction(q, x.n)),
            listIndex(L4, rankFraction(1.0 - 1e-4, x.n)), listIndex(Lr, rankFraction(q, x.n - 1))];
    });
    const esc = (s) => `'${String(s).replaceAll("'", "''")}'`;
    await con.run(
        'CREATE OR REPLACE TEMP TABLE qi AS SELECT * FROM (VALUES ' +
            idx.map((r) => `(${esc(r[0])}, ${esc(r[1])}, ${r[2]}, ${r[3]}, ${r[4]})`).join(', ') +
            ') AS t(d, c, iz, i4, ir)',
    );
    const sql = `
      WITH m AS (SELECT d, c, count(*)::DOUBLE AS n, median(v) AS loc FROM s GROUP BY d, c),
      a AS (SELECT s.d, s.c, any_value(m.n) AS n, any_value(m.loc) AS loc,
                   quantile_disc(abs(s.v - m.loc), 0.5) AS mad
            FROM s JOIN m USING (d, c) GROUP BY s.d, s.c),
      k AS (SELECT d, c, n, loc, mad, mad * ${MAD_TO_SIGMA} AS scale FROM a),
      z AS (SELECT s.d, s.c, abs(s.v - k.loc) / k.scale AS z,
                   abs(s.v - lag(s.v) OVER w) * 1e6 / CAST(s.t - lag(s.t) OVER w AS DOUBLE) AS r
            FROM s JOIN k USING (d, c)
            WINDOW w AS (PARTITION BY s.d, s.c ORDER BY s.t)),
      q AS (SELECT z.d, z.c,
                   list_extract(quantile_disc(z.z, ${sqlList(Lz)}), any_value(qi.iz)) AS z_q,
                   list_extract(quantile_disc(z.z, ${sqlList(L4)}), any_value(qi.i4)) AS z_q4,
                   list_extract(quantile_disc(z.r, ${sqlList(Lr)}), any_value(qi.ir)) AS r_q
            FROM z JOIN qi USING (d, c) GROUP BY z.d, z.c)
      SELECT k.d, k.c, k.n, k.loc, k.mad, k.scale, q.z_q, q.z_q4, q.r_q
      FROM k JOIN q USING (d, c) ORDER BY k.d, k.c`;
    const r = await con.runAndReadAll(sql);
    const rows = r.getRowObjects();
    return { secs: now() - t0, rows };
}

// Prints a checksum over every statistic and a few rows.
function summary(rows) {
    let sum = 0, n = 0;
    for (const x of rows) {
        sum += x.loc + x.scale + x.z_q + x.z_q4 + x.r_q;
        n += x.n;
    }
    const show = (x) =>
        `  ${x.d} ${x.c} n=${x.n} loc=${x.loc} mad=${x.mad} scale=${x.scale} ` +
        `z_q=${x.z_q} z_q4=${x.z_q4} r_q=${x.r_q}`;
    const pick = rows.length > 3 ? [rows[0], rows[1], rows[rows.length - 1]] : rows;
    return `${rows.length} channels, ${n} samples, checksum ${sum}\n` + pick.map(show).join('\n');
}

// Compares rows with the models printed by `vigil-bench-export model`.
function check(rows, file) {
    const byKey = new Map(rows.map((x) => [`${x.d} ${x.c}`, x]));
    const fields = ['loc', 'scale', 'z_thr', 'rate_max'];
    const st = Object.fromEntries(fields.map((f) => [f, { exact: 0, maxRel: 0 }]));
    let n = 0, missing = 0;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
        const w = line.trim().split(/\s+/);
        if (w.length < 6) continue;
        const x = byKey.get(`${w[0]} ${w[1]}`);
        if (!x) {
            missing++;
            continue;
        }
        n++;
        const floor = 1e-6 * Math.max(1, Math.abs(x.loc));
        const mine = {
            loc: x.loc,
            scale: x.scale > floor ? x.scale : floor,
            z_thr: Math.max(x.z_q * 1.25, 4),
            rate_max: Math.max(x.r_q * 1.25, 1e-9) * 2.0,
        };
        fields.forEach((f, i) => {
            const theirs = Number(w[2 + i]);
            if (theirs === mine[f]) st[f].exact++;
            const rel = Math.abs(theirs - mine[f]) / Math.max(Math.abs(theirs), 1e-300);
            st[f].maxRel = Math.max(st[f].maxRel, rel);
        });
    }
    const parts = fields.map((f) => `${f} ${st[f].exact}/${n} exact, max rel diff ${st[f].maxRel.toExponential(2)}`);
    return `check against ${file}: ${n} channels (${missing} not in DuckDB's result): ${parts.join('; ')}`;
}

function report(o, res) {
    console.log(summary(res.rows));
    if (o.results)
        writeFileSync(o.results, res.rows.map((x) =>
            [x.d, x.c, x.n, x.loc, x.mad, x.scale, x.z_q, x.z_q4, x.r_q].join(' ')).join('\n') + '\n');
    if (o.check) for (const f of o.check.split(',')) console.log(check(res.rows, f));
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    const require = createRequire(join(o.modules, 'package.json'));
    const { DuckDBInstance } = require('@duckdb/node-api');
    const opts = o.threads ? { threads: String(o.threads) } : {};
    const inst = await DuckDBInstance.create(o.mode === 'all' ? ':memory:' : o.db, opts);
    const con = await inst.connect();
    const thr = (await con.runAndReadAll("SELECT current_setting('threads')::INTEGER AS t"))
        .getRowObjects()[0].t;
    if (o.mode !== 'query') {
        const t0 = now();
        const n = await load(con, o.csv);
        if (o.mode === 'load') await con.run('CHECKPOINT');
        const t = now() - t0;
        console.log(`duckdb load: ${n} rows in ${t.toFixed(2)} s (${thr} threads)`);
    }
    if (o.mode === 'load') return;
    const times = [];
    let res;
    for (let r = 0; r < (o.mode === 'all' ? o.runs : 1); r++) {
        res = await query(con, o);
        times.push(res.secs);
        console.log(`duckdb query: ${res.secs.toFixed(2)} s (${thr} threads)`);
    }
    if (o.mode === 'all') {
        const med = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
        console.log(`duckdb query: runs ${times.map((t) => t.toFixed(2)).join(' ')} s; median ${med.toFixed(2)} s`);
    }
    report(o, res);
}

main().catch((e) => {
    process.stderr.write(`duckdb_quantiles: ${e.stack || e}\n`);
    process.exit(1);
});
