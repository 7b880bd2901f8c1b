/* ctdp-bench's report: a Markdown block with the command line, the
 * machine, one table row per measurement, notes and the project's targets;
 * and optionally a CSV of the series that the plot script draws.
 *
 * With a Markdown file that already holds the two marker lines below, only
 * the text between them is replaced, so that the file's own prose (how the
 * benchmark works) survives; a file without them becomes the block alone,
 * and one with its markers in any other shape is refused, before the runs
 * (bench_report_check_markdown()) and again when the block is written. */
#include <config.h>
#include "ctdp-bench.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "openvswitch/dynamic-string.h"
#include "util.h"

#define BEGIN_MARK "<!-- ctdp-bench results: begin -->"
#define END_MARK "<!-- ctdp-bench results: end -->"

struct bench_report {
    struct ds header;           /* Command and machine. */
    struct ds table;            /* Rows. */
    struct ds notes;            /* Bullets. */
    struct ds targets;          /* Bullets. */
    struct ds csv;              /* Plot data. */
};

static char *
read_line_with(const char *file, const char *prefix)
{
    FILE *f = fopen(file, "r");
    char line[512];
    char *found = NULL;

    while (f && !found && fgets(line, sizeof line, f)) {
        if (!strncmp(line, prefix, strlen(prefix))) {
            line[strcspn(line, "\n")] = '\0';
            found = xstrdup(line);
        }
    }
    if (f) {
        fclose(f);
    }
    return found;
}

static void
put_machine(struct ds *s)
{
    char *cpu = read_line_with("/proc/cpuinfo", "model name");
    char *thp = read_line_with("/sys/kernel/mm/transparent_hugepage/enabled",
                               "");
    char *mem = read_line_with("/proc/meminfo", "MemTotal:");
    const char *mem_total = mem ? mem + strlen("MemTotal:") : "?";
    const char *colon = cpu ? strchr(cpu, ':') : NULL;
    struct utsname u;

    ds_put_format(s, "- CPU: %s, %ld online CPUs\n",
                  colon ? colon + 2 : "unknown",
                  sysconf(_SC_NPROCESSORS_ONLN));
    if (!uname(&u)) {
        ds_put_format(s, "- Kernel: %s %s %s (%s)\n",
                      u.sysname, u.release, u.machine, u.version);
    }
    ds_put_format(s, "- Memory: %s; transparent huge pages: %s\n",
                  mem_total + strspn(mem_total, " "), thp ? thp : "?");
    ds_put_format(s, "- Open vSwitch library: %s\n", VERSION);
    free(cpu);
    free(thp);
    free(mem);
}

struct bench_report *
bench_report_create(int argc, char *argv[])
{
    struct bench_report *r = xzalloc(sizeof *r);
    time_t now = time(NULL);
    char date[64];

    ds_init(&r->header);
    ds_init(&r->table);
    ds_init(&r->notes);
    ds_init(&r->targets);
    ds_init(&r->csv);

    ds_put_cstr(&r->header, "- Command: `");
    for (int i = 0; i < argc; i++) {
        ds_put_format(&r->header, "%s%s", i ? " " : "", argv[i]);
    }
    ds_put_cstr(&r->header, "`\n");
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
    ds_put_format(&r->header, "- Date: %s\n", date);
    put_machine(&r->header);

    ds_put_cstr(&r->table,
                "| Workload | Threads | Conns | Unit | ctdp median (min-max) "
                "| OVS median (min-max) | ctdp/OVS |\n"
                "|---|---:|---:|---|---|---|---:|\n");
    ds_put_cstr(&r->csv, "series,threads,conns,median,min,max\n");
    return r;
}

static void
put_count(struct ds *s, uint32_t n)
{
    if (n >= 1000000 && !(n % 1000000)) {
        ds_put_format(s, "%"PRIu32"M", n / 1000000);
    } else if (n >= 1000 && !(n % 1000)) {
        ds_put_format(s, "%"PRIu32"k", n / 1000);
    } else {
        ds_put_format(s, "%"PRIu32, n);
    }
}

static void
put_value(struct ds *s, double v)
{
    ds_put_format(s, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
}

static void
put_runs(struct ds *s, const struct bench_runs *runs)
{
    if (!runs || !runs->n) {
        ds_put_cstr(s, "-");
        return;
    }
    put_value(s, bench_runs_median(runs));
    if (runs->n > 1) {
        ds_put_cstr(s, " (");
        put_value(s, bench_runs_min(runs));
        ds_put_cstr(s, "-");
        put_value(s, bench_runs_max(runs));
        ds_put_cstr(s, ")");
    }
    if (runs->drops) {
        ds_put_format(s, " [%"PRIu64" drops]", runs->drops);
    }
    if (runs->misses) {
        ds_put_format(s, " [%"PRIu64" misses]", runs->misses);
    }
}

/* Adds a row, unless neither 'ctdp' nor 'ovs' was measured.  'ovs' may be
 * NULL (no comparison); the ratio is always ctdp's median over OVS's. */
void
bench_report_row(struct bench_report *r, const char *workload,
                 unsigned int threads, uint32_t conns, const char *unit,
                 bool higher_is_better, const struct bench_runs *ctdp,
                 const struct bench_runs *ovs)
{
    struct ds *s = &r->table;

    if ((!ctdp || !ctdp->n) && (!ovs || !ovs->n)) {
        return;                 /* Not measured in this invocation. */
    }
    ds_put_format(s, "| %s | %u | ", workload, threads);
    put_count(s, conns);
    ds_put_format(s, " | %s %s | ", unit, higher_is_better ? "↑" : "↓");
    put_runs(s, ctdp);
    ds_put_cstr(s, " | ");
    put_runs(s, ovs);
    ds_put_cstr(s, " | ");
    if (ovs && ovs->n && ctdp && ctdp->n && bench_runs_median(ovs) > 0) {
        ds_put_format(s, "%.2f×",
                      bench_runs_median(ctdp) / bench_runs_median(ovs));
    } else {
        ds_put_cstr(s, "-");
    }
    ds_put_cstr(s, " |\n");
}

void
bench_report_note(struct bench_report *r, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    ds_put_cstr(&r->notes, "- ");
    ds_put_format_valist(&r->notes, format, args);
    ds_put_char(&r->notes, '\n');
    va_end(args);
}

static void
put_target(struct bench_report *r, const char *verdict, const char *target,
           const char *format, va_list args)
{
    ds_put_format(&r->targets, "- **%s** %s: ", verdict, target);
    ds_put_format_valist(&r->targets, format, args);
    ds_put_char(&r->targets, '\n');
}

/* Adds a target, "met" or "MISSED" as 'met' says, then the text of
 * 'format': the measured numbers it was decided on. */
void
bench_report_target(struct bench_report *r, const char *target, bool met,
                    const char *format, ...)
{
    va_list args;

    va_start(args, format);
    put_target(r, met ? "met" : "MISSED", target, format, args);
    va_end(args);
}

/* Adds a target that this invocation could not decide, with the reason in
 * 'format' (e.g. --quick does not measure the size it is set at). */
void
bench_report_target_unmeasured(struct bench_report *r, const char *target,
                               const char *format, ...)
{
    va_list args;

    va_start(args, format);
    put_target(r, "not measured", target, format, args);
    va_end(args);
}

void
bench_report_csv(struct bench_report *r, const char *series,
                 unsigned int threads, uint32_t conns,
                 const struct bench_runs *runs)
{
    ds_put_format(&r->csv, "%s,%u,%"PRIu32",%.4f,%.4f,%.4f\n", series,
                  threads, conns, bench_runs_median(runs),
                  bench_runs_min(runs), bench_runs_max(runs));
}

static void
put_block(const struct bench_report *r, struct ds *s)
{
    ds_put_cstr(s, BEGIN_MARK "\n");
    ds_put_cstr(s, "### Run\n\n");
    ds_put_cstr(s, ds_cstr_ro(&r->header));
    ds_put_cstr(s, "\n### Results\n\n");
    ds_put_cstr(s, ds_cstr_ro(&r->table));
    if (r->notes.length) {
        ds_put_cstr(s, "\n");
        ds_put_cstr(s, ds_cstr_ro(&r->notes));
    }
    ds_put_cstr(s, "\n### Targets\n\n");
    ds_put_cstr(s, ds_cstr_ro(&r->targets));
    ds_put_cstr(s, END_MARK "\n");
}

static int
write_file(const char *file, const struct ds *text)
{
    FILE *f = fopen(file, "w");

    if (!f || fputs(ds_cstr_ro(text), f) < 0 || fclose(f)) {
        int error = errno;

        fprintf(stderr, "ctdp-bench: cannot write %s (%s)\n", file,
                ovs_strerror(error));
        return error;
    }
    return 0;
}

/* Returns the contents of 'file', or NULL if it cannot be read. */
static char *
read_file(const char *file)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    FILE *f = fopen(file, "r");
    char buf[4096];
    size_t n;

    if (!f) {
        return NULL;
    }
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        ds_put_buffer(&text, buf, n);
    }
    fclose(f);
    return ds_steal_cstr(&text);
}

static size_t
count_str(const char *text, const char *s)
{
    size_t n = 0;

    for (const char *p = text; (p = strstr(p, s)) != NULL; p += strlen(s)) {
        n++;
    }
    return n;
}

/* Reads 'file' into '*textp' (NULL if it does not exist) and finds its
 * results block: '*beginp' at its begin marker and '*endp' just past its
 * end marker's line, both NULL if it has no markers.  Returns 0, or
 * EINVAL, with an error printed, unless the file has one pair of markers,
 * in order, or none: of two blocks, which one holds the results is
 * anyone's guess, and with a marker lost, where the block ends is. */
static int
read_markdown(const char *file, char **textp, const char **beginp,
              const char **endp)
{
    char *text = read_file(file);
    size_t n_begin = text ? count_str(text, BEGIN_MARK) : 0;
    size_t n_end = text ? count_str(text, END_MARK) : 0;
    const char *begin = n_begin ? strstr(text, BEGIN_MARK) : NULL;
    const char *end = n_end ? strstr(text, END_MARK) : NULL;

    *textp = text;
    *beginp = *endp = NULL;
    if (!n_begin && !n_end) {
        return 0;
    }
    if (n_begin != 1 || n_end != 1 || end < begin) {
        fprintf(stderr, "ctdp-bench: %s: needs one pair of result markers, "
                "in order; has %"PRIuSIZE" begin and %"PRIuSIZE" end\n",
                file, n_begin, n_end);
        return EINVAL;
    }
    end += strlen(END_MARK);
    *beginp = begin;
    *endp = end + (*end == '\n');
    return 0;
}

int
bench_report_check_markdown(const char *file)
{
    const char *begin, *end;
    char *text;
    int error = read_markdown(file, &text, &begin, &end);

    free(text);
    return error;
}

/* Writes 'block' into 'file', between the markers if 'file' has them,
 * through a temporary file, so that a failed write leaves it as it was. */
static int
write_markdown(const char *file, const struct ds *block)
{
    struct ds out = DS_EMPTY_INITIALIZER;
    const char *begin, *end;
    char *old, *tmp;
    int error = read_markdown(file, &old, &begin, &end);

    if (error) {
        free(old);
        return error;
    }
    if (begin) {
        ds_put_buffer(&out, old, begin - old);
        ds_put_cstr(&out, ds_cstr_ro(block));
        ds_put_cstr(&out, end);
    } else {
        ds_put_cstr(&out, ds_cstr_ro(block));
    }
    tmp = xasprintf("%s.tmp", file);
    error = write_file(tmp, &out);
    if (!error && rename(tmp, file)) {
        error = errno;
        fprintf(stderr, "ctdp-bench: cannot write %s (%s)\n", file,
                ovs_strerror(error));
    }
    if (error) {
        unlink(tmp);
    }
    free(tmp);
    ds_destroy(&out);
    free(old);
    return error;
}

void
bench_report_destroy(struct bench_report *r)
{
    ds_destroy(&r->header);
    ds_destroy(&r->table);
    ds_destroy(&r->notes);
    ds_destroy(&r->targets);
    ds_destroy(&r->csv);
    free(r);
}

/* Prints the report and writes the files that are nonnull; frees 'r'.
 * Returns 0 or the errno of a failed write. */
int
bench_report_finish(struct bench_report *r, const char *markdown_file,
                    const char *csv_file)
{
    struct ds block = DS_EMPTY_INITIALIZER;
    int error = 0;

    put_block(r, &block);
    fputs(ds_cstr(&block), stdout);
    fflush(stdout);
    if (markdown_file) {
        error = write_markdown(markdown_file, &block);
    }
    if (csv_file) {
        int csv_error = write_file(csv_file, &r->csv);

        error = error ? error : csv_error;
    }
    ds_destroy(&block);
    bench_report_destroy(r);
    return error;
}
