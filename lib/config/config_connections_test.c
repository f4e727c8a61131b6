/*
 * Unit tests for database connections and brute-force protection in lib/config: defaults,
 * client names resolved to ids, both lists, every invalid value refused with the file, the
 * entry and the field named, and hostile values (wrong types, huge dictionaries).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "config_testing.h"
#include "core/log.h"


static int
setup(void **state)
{
    (void)state;
    log_init("config_connections_test", TG_LOG_ERROR);
    return 0;
}

static void
test_defaults(void **state)
{
    config *cfg = config_test_load_ok("databases:\n  - name: DB\n");
    const config_connection *db = config_connection_by_name(cfg, "DB");

    (void)state;
    assert_non_null(db);
    assert_string_equal(db->strategy, "auth0");
    assert_true(db->all_clients);
    assert_false(db->is_domain_connection);
    assert_int_equal(db->enabled_clients.n, 0);
    assert_true(config_connection_enabled_for(db, "anyone"));
    assert_int_equal(db->password_policy, CONFIG_PW_NONE);
    assert_int_equal(db->min_length, 0);
    assert_false(db->password_history);
    assert_int_equal(db->password_history_size, 0);
    assert_false(db->password_dictionary);
    assert_int_equal(db->dictionary.n, 0);
    assert_false(db->password_no_personal_info);
    assert_true(db->brute_force_protection);
    assert_false(db->requires_username);
    assert_int_equal(db->username_min, 1);
    assert_int_equal(db->username_max, 15);
    assert_false(db->disable_signup);
    assert_false(db->disable_self_service_change_password);
    /* No attackProtection: brute-force protection on, 10 attempts (Auth0's defaults). */
    assert_true(cfg->tenant.brute_force_enabled);
    assert_int_equal(cfg->tenant.brute_force_max_attempts, 10);
    assert_false(cfg->tenant.signup_user_exists_error);
    assert_null(config_connection_by_name(cfg, "db"));
    assert_null(config_connection_by_name(cfg, NULL));
    assert_null(config_connection_by_name(NULL, "DB"));
    assert_false(config_connection_enabled_for(NULL, "x"));
    assert_false(config_connection_enabled_for(db, NULL));
    config_free(cfg);

    /* Same with options present but empty, and with a null password policy. */
    cfg = config_test_load_ok("databases:\n  - {name: DB, options: {passwordPolicy: null}}\n");
    assert_int_equal(cfg->connections[0].password_policy, CONFIG_PW_NONE);
    assert_true(cfg->connections[0].brute_force_protection);
    config_free(cfg);
}

static void
test_every_field(void **state)
{
    static const char text[] =
        "tenant:\n"
        "  flags: {enable_public_signup_user_exists_error: true}\n"
        "clients:\n"
        "  - {name: App One, client_id: id-one, client_secret: s1}\n"
        "  - {name: App Two, client_id: id-two, client_secret: s2}\n"
        "databases:\n"
        "  - name: users-1\n"
        "    strategy: auth0\n"
        "    enabled_clients: [App Two, literal-id, App One]\n"
        "    options:\n"
        "      passwordPolicy: excellent\n"
        "      password_complexity_options: {min_length: 128}\n"
        "      password_history: {enable: false, size: 24}\n"
        "      password_dictionary: {enable: true, dictionary: [a, b, c]}\n"
        "      password_no_personal_info: {enable: false}\n"
        "      brute_force_protection: false\n"
        "      requires_username: true\n"
        "      validation: {username: {min: 3, max: 128}}\n"
        "      disable_signup: true\n"
        "      disable_self_service_change_password: true\n"
        "  - {name: none-at-all, enabled_clients: []}\n"
        "connections:\n"
        "  - {name: email, strategy: email, enabled_clients: [App One]}\n"
        "  - name: 'in-connections'\n"
        "    strategy: auth0\n"
        "    options: {passwordPolicy: low}\n"
        "attackProtection:\n"
        "  bruteForceProtection: {enabled: true, shields: [block], max_attempts: 100}\n";
    config *cfg = config_test_load_ok(text);
    const config_connection *a, *none, *in;

    (void)state;
    assert_true(cfg->tenant.signup_user_exists_error);
    assert_true(cfg->tenant.brute_force_enabled);
    assert_int_equal(cfg->tenant.brute_force_max_attempts, 100);
    assert_int_equal(cfg->n_connections, 3);
    a = config_connection_by_name(cfg, "users-1");
    none = config_connection_by_name(cfg, "none-at-all");
    in = config_connection_by_name(cfg, "in-connections");
    assert_non_null(a);
    assert_non_null(none);
    assert_non_null(in);
    assert_null(config_connection_by_name(cfg, "email"));

    /* Names resolved in order; an unknown name is kept as a literal id. */
    assert_false(a->all_clients);
    assert_int_equal(a->enabled_clients.n, 3);
    assert_string_equal(a->enabled_clients.v[0], "id-two");
    assert_string_equal(a->enabled_clients.v[1], "literal-id");
    assert_string_equal(a->enabled_clients.v[2], "id-one");
    assert_true(config_connection_enabled_for(a, "id-one"));
    assert_true(config_connection_enabled_for(a, "literal-id"));
    assert_false(config_connection_enabled_for(a, "App One"));
    assert_int_equal(a->password_policy, CONFIG_PW_EXCELLENT);
    assert_int_equal(a->min_length, 128);
    assert_false(a->password_history);
    assert_int_equal(a->password_history_size, 24);
    assert_true(a->password_dictionary);
    assert_int_equal(a->dictionary.n, 3);
    assert_string_equal(a->dictionary.v[2], "c");
    assert_false(a->password_no_personal_info);
    assert_false(a->brute_force_protection);
    assert_true(a->requires_username);
    assert_int_equal(a->username_min, 3);
    assert_int_equal(a->username_max, 128);
    assert_true(a->disable_signup);
    assert_true(a->disable_self_service_change_password);

    /* [] : no client at all. */
    assert_false(none->all_clients);
    assert_int_equal(none->enabled_clients.n, 0);
    assert_false(config_connection_enabled_for(none, "id-one"));

    /* A strategy-auth0 entry under connections: is a database connection too. */
    assert_string_equal(in->strategy, "auth0");
    assert_int_equal(in->password_policy, CONFIG_PW_LOW);
    assert_true(in->all_clients);
    config_free(cfg);
}

static void
test_policies_and_brute_force(void **state)
{
    static const struct {
        const char *value;
        config_password_policy want;
    } policies[] = {
        {"none", CONFIG_PW_NONE},           {"low", CONFIG_PW_LOW},
        {"fair", CONFIG_PW_FAIR},           {"good", CONFIG_PW_GOOD},
        {"excellent", CONFIG_PW_EXCELLENT},
    };
    static const struct {
        const char *yaml;
        bool enabled;
        int64_t max;
    } bfp[] = {
        {"attackProtection: {bruteForceProtection: {enabled: false}}\n", false, 10},
        {"attackProtection: {bruteForceProtection: {max_attempts: 1}}\n", true, 1},
        /* user_notification alone: Auth0 notifies but locks nothing. */
        {"attackProtection: {bruteForceProtection: {shields: [user_notification]}}\n", false, 10},
        {"attackProtection: {bruteForceProtection: {shields: []}}\n", false, 10},
        {"attackProtection: {bruteForceProtection: {shields: [user_notification, block]}}\n", true,
         10},
        {"attackProtection: {bruteForceProtection: {shields: null}}\n", true, 10},
        {"attackProtection: {suspiciousIpThrottling: {enabled: true}}\n", true, 10},
        {"attackProtection: ~\n", true, 10},
    };
    char text[256];

    (void)state;
    for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
        config *cfg;

        snprintf(text, sizeof(text), "databases: [{name: d, options: {passwordPolicy: %s}}]\n",
                 policies[i].value);
        cfg = config_test_load_ok(text);
        assert_int_equal(cfg->connections[0].password_policy, policies[i].want);
        config_free(cfg);
    }
    for (size_t i = 0; i < sizeof(bfp) / sizeof(bfp[0]); i++) {
        config *cfg = config_test_load_ok(bfp[i].yaml);

        if (cfg->tenant.brute_force_enabled != bfp[i].enabled)
            fail_msg("%s: enabled %d", bfp[i].yaml, cfg->tenant.brute_force_enabled);
        assert_int_equal(cfg->tenant.brute_force_max_attempts, bfp[i].max);
        config_free(cfg);
    }
}

static void
test_invalid(void **state)
{
    (void)state;
    CONFIG_TEST_FAILS("databases: x\n", "tenant.yaml: databases: must be a list");
    CONFIG_TEST_FAILS("connections: {a: 1}\n", "tenant.yaml: connections: must be a list");
    CONFIG_TEST_FAILS("databases: [x]\n", "tenant.yaml: databases[0]: must be an object");
    CONFIG_TEST_FAILS("databases: [{strategy: auth0}]\n", "tenant.yaml: databases[0]: name: required");
    CONFIG_TEST_FAILS("databases: [{name: 7}]\n", "databases[0]: name: must be a string");
    CONFIG_TEST_FAILS("databases: [{name: ''}]\n", "databases[0]: name: must be letters, digits and '-'");
    CONFIG_TEST_FAILS("databases: [{name: '-db'}]\n", "databases[0] (\"-db\"): name: must be letters");
    CONFIG_TEST_FAILS("databases: [{name: 'db-'}]\n", "databases[0] (\"db-\"): name: must be letters");
    CONFIG_TEST_FAILS("databases: [{name: 'my db'}]\n", "databases[0] (\"my db\"): name: must be letters");
    CONFIG_TEST_FAILS("databases: [{name: 'db_1'}]\n", "name: must be letters");
    CONFIG_TEST_FAILS("databases: [{name: \"d\\u00e9\"}]\n", "name: must be letters");
    CONFIG_TEST_FAILS("databases: [{name: a}, {name: b}, {name: a}]\n",
          "tenant.yaml: databases[2] (\"a\"): name: duplicate of databases[0]");
    CONFIG_TEST_FAILS("databases: [{name: a}]\nconnections: [{name: x, strategy: sms}, {name: a, strategy: "
          "email}]\n",
          "connections[1] (\"a\"): name: duplicate of databases[0]");
    CONFIG_TEST_FAILS("databases: [{name: a, strategy: email}]\n",
          "databases[0] (\"a\"): strategy: must be auth0");
    CONFIG_TEST_FAILS("databases: [{name: a, strategy: 1}]\n", "databases[0] (\"a\"): strategy: must be a "
                                                   "string");
    CONFIG_TEST_FAILS("connections: [{name: a}]\n", "connections[0] (\"a\"): strategy: required");
    CONFIG_TEST_FAILS("connections: [{name: a, strategy: auth0, options: {passwordPolicy: strong}}]\n",
          "connections[0] (\"a\"): options.passwordPolicy: must be none, low, fair, good, "
          "excellent or null");
    CONFIG_TEST_FAILS("databases: [{name: a, enabled_clients: x}]\n",
          "databases[0] (\"a\"): enabled_clients: must be a list of strings");
    CONFIG_TEST_FAILS("databases: [{name: a, enabled_clients: [1]}]\n", "enabled_clients: must be a list");
    CONFIG_TEST_FAILS("databases: [{name: a, options: 3}]\n", "databases[0] (\"a\"): options: must be an "
                                                  "object");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {passwordPolicy: 3}}]\n",
          "databases[0] (\"a\"): options.passwordPolicy: must be");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {passwordPolicy: GOOD}}]\n", "options.passwordPolicy");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_complexity_options: 8}}]\n",
          "databases[0] (\"a\"): options.password_complexity_options: must be an object");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_complexity_options: {min_length: 0}}}]\n",
          "databases[0] (\"a\"): options.password_complexity_options.min_length: must be an "
          "integer between 1 and 128");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_complexity_options: {min_length: 129}}}]\n",
          "options.password_complexity_options.min_length");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_complexity_options: {min_length: '8'}}}]\n",
          "options.password_complexity_options.min_length");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_history: {size: 5}}}]\n",
          "databases[0] (\"a\"): options.password_history.enable: required");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_history: {enable: 'yes'}}}]\n",
          "options.password_history.enable: must be true or false");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_history: {enable: true, size: 25}}}]\n",
          "databases[0] (\"a\"): options.password_history.size: must be an integer between 0 "
          "and 24");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_history: {enable: true, size: -1}}}]\n",
          "options.password_history.size");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_history: []}}]\n",
          "options.password_history: must be an object");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_dictionary: {dictionary: [x]}}}]\n",
          "options.password_dictionary.enable: required");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_dictionary: {enable: true, dictionary: "
          "x}}}]\n",
          "databases[0] (\"a\"): options.password_dictionary.dictionary: must be a list of "
          "strings");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_dictionary: {enable: true, dictionary: "
          "[x, {y: 1}]}}}]\n",
          "options.password_dictionary.dictionary: must be a list of strings");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_dictionary: {enable: true, dictionary: "
          "[ok, '123456789012345678901234567890123456789012345678901']}}}]\n",
          "options.password_dictionary.dictionary: entry 1 is longer than 50 characters");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_no_personal_info: true}}]\n",
          "databases[0] (\"a\"): options.password_no_personal_info: must be an object");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_no_personal_info: {}}}]\n",
          "options.password_no_personal_info.enable: required");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {brute_force_protection: 'no'}}]\n",
          "databases[0] (\"a\"): options.brute_force_protection: must be true or false");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {requires_username: 1}}]\n",
          "options.requires_username: must be true or false");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {disable_signup: 'true'}}]\n",
          "options.disable_signup: must be true or false");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {disable_self_service_change_password: []}}]\n",
          "options.disable_self_service_change_password: must be true or false");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {validation: 1}}]\n",
          "databases[0] (\"a\"): options.validation: must be an object");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {validation: {username: [1]}}}]\n",
          "options.validation.username: must be an object");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {validation: {username: {min: 0}}}}]\n",
          "databases[0] (\"a\"): options.validation.username.min: must be an integer between 1 "
          "and 128");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {validation: {username: {max: 129}}}}]\n",
          "options.validation.username.max: must be an integer between 1 and 128");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {validation: {username: {min: 20}}}}]\n",
          "databases[0] (\"a\"): options.validation.username: min must not exceed max");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {validation: {username: {min: 9, max: 8}}}}]\n",
          "options.validation.username: min must not exceed max");
    /* The flexible policy: never silently ignored; mixing is refused as the Deploy CLI does. */
    CONFIG_TEST_FAILS("databases: [{name: a, options: {passwordPolicy: good, password_options: {}}}]\n",
          "databases[0] (\"a\"): options.password_options: cannot be combined with the legacy "
          "password settings (options.passwordPolicy)");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_history: {enable: true}, password_options: "
          "{history: {active: true}}}}]\n",
          "options.password_options: cannot be combined", "options.password_history");
    CONFIG_TEST_FAILS("tenant: {flags: {enable_public_signup_user_exists_error: 'yes'}}\n",
          "tenant.yaml: tenant.flags: enable_public_signup_user_exists_error: must be true or "
          "false");
    CONFIG_TEST_FAILS("attackProtection: 1\n", "tenant.yaml: attackProtection: must be an object");
    CONFIG_TEST_FAILS("attackProtection: {bruteForceProtection: true}\n",
          "tenant.yaml: attackProtection: bruteForceProtection: must be an object");
    CONFIG_TEST_FAILS("attackProtection: {bruteForceProtection: {enabled: 1}}\n",
          "tenant.yaml: attackProtection.bruteForceProtection: enabled: must be true or false");
    CONFIG_TEST_FAILS("attackProtection: {bruteForceProtection: {max_attempts: 0}}\n",
          "attackProtection.bruteForceProtection: max_attempts: must be between 1 and 100");
    CONFIG_TEST_FAILS("attackProtection: {bruteForceProtection: {max_attempts: 101}}\n",
          "attackProtection.bruteForceProtection: max_attempts: must be between 1 and 100");
    CONFIG_TEST_FAILS("attackProtection: {bruteForceProtection: {shields: block}}\n",
          "attackProtection.bruteForceProtection: shields: must be a list of strings");
    CONFIG_TEST_FAILS("attackProtection: {bruteForceProtection: {shields: [1]}}\n",
          "shields: must be a list of strings");
}

/* Names: the longest legal one, one longer, and client names that look like ids. */
static void
test_names(void **state)
{
    char text[512], name[200];
    config *cfg;

    (void)state;
    memset(name, 'a', 128);
    name[128] = '\0';
    snprintf(text, sizeof(text), "databases: [{name: %s}]\n", name);
    cfg = config_test_load_ok(text);
    assert_non_null(config_connection_by_name(cfg, name));
    config_free(cfg);
    name[128] = 'b';
    name[129] = '\0';
    snprintf(text, sizeof(text), "databases: [{name: %s}]\n", name);
    CONFIG_TEST_FAILS(text, "databases[0]", "name: must be letters, digits and '-'", "at most 128");
    cfg = config_test_load_ok("databases: [{name: A-1-b}, {name: '9'}]\n");
    assert_int_equal(cfg->n_connections, 2);
    config_free(cfg);
}

/* Wrong types everywhere and huge values: clean errors, no crash, no leak. */
static void
test_hostile(void **state)
{
    static const char *const hostile[] = {
        "databases: [{name: a, options: {password_dictionary: {enable: true, dictionary: "
        "[[[[1]]]]}}}]\n",
        "databases: [{name: a, options: {password_history: {enable: true, size: "
        "99999999999999999999}}}]\n",
        "databases: [{name: a, options: {validation: {username: {min: 1.5}}}}]\n",
        "databases: [{name: a, enabled_clients: [{$gt: ''}]}]\n",
        "databases: [{name: [a]}]\n",
        "databases: [{name: {a: 1}}]\n",
        "connections: [{name: a, strategy: [auth0]}]\n",
        "databases: [[], {}]\n",
        "databases: [{name: a, options: {passwordPolicy: [good]}}]\n",
        "databases: [{name: a, options: {password_options: null, passwordPolicy: {x: 1}}}]\n",
    };
    size_t cap = 64 * 1024, o = 0;
    char *text;
    config *cfg;

    (void)state;
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
        CONFIG_TEST_FAILS(hostile[i], "tenant.yaml: ");

    /* 200 dictionary entries of 50 characters load; 201 do not. */
    text = malloc(cap);
    assert_non_null(text);
    o = (size_t)snprintf(text, cap,
                         "databases: [{name: a, options: {password_dictionary: "
                         "{enable: true, dictionary: [");
    for (int i = 0; i < 200; i++)
        o += (size_t)snprintf(text + o, cap - o, "%s'%048d%02d'", i ? ", " : "", 0, i % 100);
    snprintf(text + o, cap - o, "]}}}]\n");
    cfg = config_test_load_ok(text);
    assert_int_equal(cfg->connections[0].dictionary.n, 200);
    assert_int_equal(strlen(cfg->connections[0].dictionary.v[199]), 50);
    config_free(cfg);
    o += (size_t)snprintf(text + o, cap - o, ", extra]}}}]\n");
    CONFIG_TEST_FAILS(text, "databases[0] (\"a\"): options.password_dictionary.dictionary: at most 200 "
                "entries");

    /* A huge number of connections loads in linear time; duplicates found at the end. */
    {
        const size_t n = 5000;
        size_t cap2 = n * 40 + 64, p = 0;
        char *big = malloc(cap2);

        assert_non_null(big);
        p = (size_t)snprintf(big, cap2, "databases:\n");
        for (size_t i = 0; i < n; i++)
            p += (size_t)snprintf(big + p, cap2 - p, "  - {name: c%zu}\n", i);
        cfg = config_test_load_ok(big);
        assert_int_equal(cfg->n_connections, n);
        config_free(cfg);
        snprintf(big + p, cap2 - p, "  - {name: c17}\n");
        CONFIG_TEST_FAILS(big, "databases[5000] (\"c17\"): name: duplicate of databases[17]");
        free(big);
    }
    free(text);
}

/* password_options: every field of Auth0's schema read; history in the legacy fields. */
static void
test_password_options(void **state)
{
    config *cfg = config_test_load_ok(
        "databases:\n"
        "  - name: Flex\n"
        "    options:\n"
        "      password_options:\n"
        "        complexity: {min_length: 12, character_types: [lowercase, uppercase, number, "
        "special], character_type_rule: three_of_four, identical_characters: block,\n"
        "                     sequential_characters: block, max_length_exceeded: error}\n"
        "        history: {active: true, size: 7}\n"
        "        dictionary: {active: true, default: en_100k, custom: [Acme2026, tollgate]}\n"
        "        profile_data: {active: true, blocked_fields: [name, email, user_metadata.pet]}\n"
        "  - {name: Empty, options: {password_options: {}}}\n"
        "  - name: Some\n"
        "    options: {password_options: {complexity: {character_types: [number]}, history: "
        "{active: true}, dictionary: {active: true}, profile_data: {active: true}}}\n");
    const config_connection *f = config_connection_by_name(cfg, "Flex");
    const config_connection *e = config_connection_by_name(cfg, "Empty");
    const config_connection *m = config_connection_by_name(cfg, "Some");

    (void)state;
    assert_true(f->password_options.active);
    assert_int_equal(f->password_options.min_length, 12);
    assert_int_equal(f->password_options.character_types, CONFIG_CHARS_ALL);
    assert_true(f->password_options.three_of_four);
    assert_true(f->password_options.block_identical);
    assert_true(f->password_options.block_sequential);
    assert_true(f->password_options.max_length_error);
    assert_true(f->password_history);
    assert_int_equal(f->password_history_size, 7);
    assert_true(f->password_options.dictionary);
    assert_int_equal(f->password_options.dictionary_list, CONFIG_DICT_EN_100K);
    assert_int_equal(f->password_options.custom.n, 2);
    assert_string_equal(f->password_options.custom.v[0], "Acme2026");
    assert_true(f->password_options.profile_data);
    assert_int_equal(f->password_options.blocked_fields.n, 3);
    assert_string_equal(f->password_options.blocked_fields.v[2], "user_metadata.pet");
    /* The legacy policy is off: the flexible one replaces it. */
    assert_int_equal(f->password_policy, CONFIG_PW_NONE);
    assert_int_equal(f->min_length, 0);
    assert_false(f->password_dictionary);
    assert_false(f->password_no_personal_info);

    /* {}: active with every part off; min_length 1; the 10k list. */
    assert_true(e->password_options.active);
    assert_int_equal(e->password_options.min_length, 1);
    assert_int_equal(e->password_options.character_types, 0);
    assert_false(e->password_options.three_of_four);
    assert_false(e->password_options.block_identical);
    assert_false(e->password_options.block_sequential);
    assert_false(e->password_options.max_length_error);
    assert_false(e->password_history);
    assert_false(e->password_options.dictionary);
    assert_int_equal(e->password_options.dictionary_list, CONFIG_DICT_EN_10K);
    assert_false(e->password_options.profile_data);
    assert_int_equal(e->password_options.blocked_fields.n, 0);

    assert_int_equal(m->password_options.character_types, CONFIG_CHARS_NUMBER);
    assert_true(m->password_history);
    assert_int_equal(m->password_history_size, 5); /* size absent: 5 */
    assert_true(m->password_options.dictionary);
    assert_int_equal(m->password_options.custom.n, 0);

    /* A legacy connection has the flexible policy off. */
    config_free(cfg);
    cfg = config_test_load_ok("databases: [{name: L, options: {passwordPolicy: good}}]\n");
    assert_false(cfg->connections[0].password_options.active);
    config_free(cfg);
}

/* Every invalid password_options value refused with the field named. */
static void
test_password_options_invalid(void **state)
{
    static const struct {
        const char *options; /* the value of password_options */
        const char *want;
    } cases[] = {
        {"[]", "options.password_options: must be an object"},
        {"yes", "options.password_options: must be an object"},
        {"{complexity: 1}", "options.password_options.complexity: must be an object"},
        {"{history: [active]}", "options.password_options.history: must be an object"},
        {"{strength: {}}", "options.password_options: unknown field \"strength\""},
        {"{complexity: {min_lenght: 8}}",
         "options.password_options.complexity: unknown field \"min_lenght\""},
        {"{dictionary: {enable: true}}",
         "options.password_options.dictionary: unknown field \"enable\""},
        {"{complexity: {\"\\x01\": 1}}",
         "options.password_options.complexity: unknown field (unprintable)"},
        {"{complexity: {min_length: 0}}",
         "options.password_options.complexity.min_length: must be an integer between 1 and 72"},
        {"{complexity: {min_length: 73}}", "between 1 and 72"},
        {"{complexity: {min_length: 8.5}}", "between 1 and 72"},
        {"{complexity: {min_length: '8'}}", "between 1 and 72"},
        {"{complexity: {min_length: 99999999999999999999}}", "tenant.yaml"},
        {"{complexity: {character_types: upper}}",
         "options.password_options.complexity.character_types: must be a list of lowercase, "
         "uppercase, number or special"},
        {"{complexity: {character_types: [upper]}}",
         "character_types: entry 0 must be lowercase, uppercase, number or special"},
        {"{complexity: {character_types: [number, 1]}}", "character_types: entry 1 must be"},
        {"{complexity: {character_type_rule: at_least}}",
         "options.password_options.complexity.character_type_rule: must be all or three_of_four"},
        {"{complexity: {character_type_rule: three_of_four, character_types: [number, special, "
         "lowercase]}}",
         "character_type_rule: three_of_four needs all four character_types"},
        {"{complexity: {identical_characters: true}}",
         "complexity.identical_characters: must be allow or block"},
        {"{complexity: {sequential_characters: Block}}",
         "complexity.sequential_characters: must be allow or block"},
        {"{complexity: {max_length_exceeded: allow}}",
         "complexity.max_length_exceeded: must be truncate or error"},
        {"{history: {active: 1}}", "options.password_options.history.active: must be true or "
                                   "false"},
        {"{history: {active: true, size: 0}}",
         "options.password_options.history.size: must be an integer between 1 and 24"},
        {"{history: {size: 25}}", "history.size: must be an integer between 1 and 24"},
        {"{dictionary: {active: 'true'}}", "dictionary.active: must be true or false"},
        {"{dictionary: {default: en_1m}}",
         "options.password_options.dictionary.default: must be en_10k or en_100k"},
        {"{dictionary: {default: [en_10k]}}", "dictionary.default: must be en_10k or en_100k"},
        {"{dictionary: {custom: acme}}",
         "options.password_options.dictionary.custom: must be a list of strings"},
        {"{dictionary: {custom: [acme, {$gt: ''}]}}", "dictionary.custom: must be a list of "
                                                     "strings"},
        {"{dictionary: {custom: ['012345678901234567890123456789012345678901234567890']}}",
         "dictionary.custom: entry 0 is longer than 50 characters"},
        {"{profile_data: {active: true, blocked_fields: [password]}}",
         "options.password_options.profile_data.blocked_fields: entry 0 must be name, "
         "nickname"},
        {"{profile_data: {blocked_fields: [name, app_metadata.x]}}",
         "blocked_fields: entry 1 must be"},
        {"{profile_data: {blocked_fields: [user_metadata.]}}", "blocked_fields: entry 0 must be"},
        {"{profile_data: {blocked_fields: [user_metadata.a.b]}}",
         "blocked_fields: entry 0 must be"},
        {"{profile_data: {blocked_fields: [name, name, name, name, name, name, name, name, name, "
         "name, name, name, name]}}",
         "options.password_options.profile_data.blocked_fields: at most 12 entries"},
        {"{profile_data: {blocked_fields: name}}", "blocked_fields: must be a list of strings"},
    };
    char text[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), "databases: [{name: a, options: {password_options: %s}}]\n",
                 cases[i].options);
        CONFIG_TEST_FAILS(text, "tenant.yaml: databases[0] (\"a\"): ", cases[i].want);
    }
}

/* Hostile password_options: 200 custom words of 50 multi-byte characters load and 201 do not;
 * 12 blocked fields load; a non-UTF-8 word stops the load; nothing leaks. */
static void
test_password_options_hostile(void **state)
{
    size_t cap = 128 * 1024, o;
    char *text = malloc(cap);
    config *cfg;

    (void)state;
    assert_non_null(text);
    o = (size_t)snprintf(text, cap, "databases: [{name: a, options: {password_options: "
                                    "{dictionary: {active: true, custom: [");
    for (int i = 0; i < 200; i++) {
        o += (size_t)snprintf(text + o, cap - o, "%s'", i ? ", " : "");
        for (int j = 0; j < 48; j++)
            o += (size_t)snprintf(text + o, cap - o, "\xc3\xa9"); /* é: 2 bytes, 1 character */
        o += (size_t)snprintf(text + o, cap - o, "%02d'", i % 100);
    }
    snprintf(text + o, cap - o, "]}}}}]\n");
    cfg = config_test_load_ok(text);
    assert_int_equal(cfg->connections[0].password_options.custom.n, 200);
    assert_int_equal(strlen(cfg->connections[0].password_options.custom.v[0]), 98);
    config_free(cfg);
    snprintf(text + o, cap - o, ", one-more]}}}}]\n");
    CONFIG_TEST_FAILS(text, "options.password_options.dictionary.custom: at most 200 entries");

    cfg = config_test_load_ok(
        "databases: [{name: a, options: {password_options: {profile_data: {active: true, "
        "blocked_fields: [name, nickname, username, email, given_name, family_name, "
        "phone_number, user_metadata.a, user_metadata.b, user_metadata.c, user_metadata.d, "
        "user_metadata.first]}}}}]\n");
    assert_int_equal(cfg->connections[0].password_options.blocked_fields.n, 12);
    config_free(cfg);

    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_options: {dictionary: {custom: "
                      "['\xff\xfe']}}}}]\n",
                      "tenant.yaml");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_options: {complexity: "
                      "{character_types: [\"number\\0x\"]}}}}]\n",
                      "tenant.yaml");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_options: {complexity: "
                      "[[[[[[[[1]]]]]]]]}}}]\n",
                      "options.password_options.complexity: must be an object");
    /* Mixing with each legacy field is refused, whatever the order. */
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_options: {}, "
                      "password_no_personal_info: {enable: false}}}]\n",
                      "cannot be combined", "options.password_no_personal_info");
    CONFIG_TEST_FAILS("databases: [{name: a, options: {password_options: {}, "
                      "password_complexity_options: {min_length: 8}}}]\n",
                      "cannot be combined", "options.password_complexity_options");
    free(text);
}

/* is_domain_connection: a boolean, false by default; anything else is refused. */
static void
test_domain_connection(void **state)
{
    config *cfg = config_test_load_ok("databases:\n  - {name: Dom, is_domain_connection: true}\n"
                                      "  - {name: Plain, is_domain_connection: false}\n");

    (void)state;
    assert_true(config_connection_by_name(cfg, "Dom")->is_domain_connection);
    assert_false(config_connection_by_name(cfg, "Plain")->is_domain_connection);
    config_free(cfg);
    CONFIG_TEST_FAILS("databases:\n  - {name: Dom, is_domain_connection: 'yes'}\n",
                      "is_domain_connection");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_domain_connection, setup),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_policies_and_brute_force),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_password_options),
        cmocka_unit_test(test_password_options_invalid),
        cmocka_unit_test(test_password_options_hostile),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
