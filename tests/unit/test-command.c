#include <config.h>
#include "ctdp-command.h"
#include "ctdp-unit.h"

#include <stdlib.h>
#include <string.h>

/* Every row is well formed, and names are unique both ways: the client
 * maps a typed name to one unixctl name and the daemon registers each once. */
static void
test_command_table_well_formed(void)
{
    size_t n = ctdp_command_count();

    CHECK(n > 0);
    CHECK(ctdp_command_at(n) == NULL);
    for (size_t i = 0; i < n; i++) {
        const struct ctdp_command *c = ctdp_command_at(i);

        CHECK(c->name && *c->name && c->unixctl && *c->unixctl);
        CHECK(c->usage && c->help && *c->help);
        CHECK(c->min_args >= 0 && c->min_args <= c->max_args);
        CHECK(ctdp_command_find(c->name) == c);
        CHECK(ctdp_command_find_unixctl(c->unixctl) == c);
    }
}

/* Every row has the daemon's handler, but for the two commands that OVS's
 * unixctl server serves itself: ctdp_command_register_all() registers
 * exactly the rows, so a row without one would be offered by ctdp-dpctl
 * and refused by the daemon. */
static void
test_command_every_row_has_handler(void)
{
    size_t n_builtin = 0;

    for (size_t i = 0; i < ctdp_command_count(); i++) {
        const struct ctdp_command *c = ctdp_command_at(i);
        bool builtin = (!strcmp(c->unixctl, "version")
                        || !strcmp(c->unixctl, "list-commands"));

        CHECK(builtin ? c->handler == NULL : c->handler != NULL);
        n_builtin += builtin;
    }
    CHECK_EQ(n_builtin, 2);
    CHECK(ctdp_command_find("exit")->handler == ctdp_command_exit);
}

static void
test_command_find(void)
{
    CHECK(ctdp_command_find("version") != NULL);
    CHECK(ctdp_command_find("exit") != NULL);
    CHECK(ctdp_command_find("no-such-command") == NULL);
    CHECK(ctdp_command_find("") == NULL);
    CHECK(ctdp_command_find("versio") == NULL);
}

/* The argument check accepts counts within the bounds and explains any
 * other count in a message that names the command. */
static void
test_command_check_args(void)
{
    const struct ctdp_command *version = ctdp_command_find("version");
    char *msg;

    CHECK(ctdp_command_check_args(version, 0) == NULL);
    msg = ctdp_command_check_args(version, 1);
    CHECK(msg && strstr(msg, "'version' takes no arguments"));
    free(msg);
}

static void
test_command_default_socket(void)
{
    const char *path = ctdp_command_default_socket();
    size_t len = strlen(path);

    CHECK(len > 10 && !strcmp(path + len - 10, "/ctdpd.ctl"));
}

const struct ctdp_unit_suite command_suite = {
    "command", (const struct ctdp_unit_case[]) {
        { "table_well_formed", test_command_table_well_formed },
        { "every_row_has_handler", test_command_every_row_has_handler },
        { "find", test_command_find },
        { "check_args", test_command_check_args },
        { "default_socket", test_command_default_socket },
        { NULL, NULL },
    },
};
