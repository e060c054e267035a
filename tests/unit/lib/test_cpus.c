/*
 * test_cpus.c: the CPUs a process may use (lib/cpus.c).
 */
#include "t.h"

#include "lib/cpus.h"

TEST(cpu_quota_is_rounded_up)
{
	CHECK(cpu_quota_limit("max 100000\n") == 0);
	CHECK(cpu_quota_limit("200000 100000\n") == 2);
	CHECK(cpu_quota_limit("150000 100000") == 2);
	CHECK(cpu_quota_limit("50000 100000") == 1);
	CHECK(cpu_quota_limit("") == 0);
	CHECK(cpu_quota_limit("abc 100000") == 0);
	CHECK(cpu_quota_limit("100000 0") == 0);
	CHECK(cpu_count() >= 1);
}
