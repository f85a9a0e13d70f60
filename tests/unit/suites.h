/*
 * suites.h -- one constructor per test file; main.c runs them all.
 */
#ifndef SYNACK_TEST_SUITES_H
#define SYNACK_TEST_SUITES_H

#include <check.h>

Suite *checksum_suite(void);
Suite *seq_suite(void);
Suite *ipv4_suite(void);
Suite *tcp_header_suite(void);
Suite *isn_suite(void);
Suite *ring_suite(void);
Suite *counters_suite(void);
Suite *tcp_state_suite(void);
Suite *http_parser_suite(void);
Suite *http_files_suite(void);
Suite *http_server_suite(void);
Suite *http_site_files_suite(void);
Suite *impair_suite(void);
Suite *trace_view_suite(void);

#endif
