/*
 * banned.h: functions this codebase must not call, turned into compile
 * errors. They either cannot bound their output (strcpy, strcat, sprintf,
 * vsprintf, gets) or keep hidden state (strtok, gmtime, localtime). Use the
 * buf_* builders, snprintf, strtok_r, gmtime_r instead. Included last by
 * every .c file of the project (after system headers).
 */
#ifndef INSIGHTS_BANNED_H
#define INSIGHTS_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef gets
#define gets(x) BANNED(gets)

#endif
