/*
 * main.c -- runs every unit suite (forking per test, so a crash fails only
 * its own test) and ends with the "N passed, M failed" line that
 * tests/run_all.sh adds up.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/suites.h"

int main(void)
{
    SRunner *sr = srunner_create(checksum_suite());
    srunner_add_suite(sr, seq_suite());
    srunner_add_suite(sr, ipv4_suite());
    srunner_add_suite(sr, tcp_header_suite());
    srunner_add_suite(sr, isn_suite());
    srunner_add_suite(sr, ring_suite());
    srunner_add_suite(sr, counters_suite());
    srunner_add_suite(sr, tcp_state_suite());
    srunner_add_suite(sr, http_parser_suite());
    srunner_add_suite(sr, http_files_suite());
    srunner_add_suite(sr, http_server_suite());
    srunner_add_suite(sr, http_site_files_suite());
    srunner_add_suite(sr, impair_suite());
    srunner_add_suite(sr, trace_view_suite());

    srunner_run_all(sr, CK_NORMAL);
    int run = srunner_ntests_run(sr);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    fflush(stderr);
    printf("%d passed, %d failed\n", run - failed, failed);
    fflush(stdout);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
