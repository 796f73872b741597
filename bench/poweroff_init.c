/* A static /init that powers the machine off at once: the Linux baseline
 * of the guest benchmark measures boot to userspace and nothing else. */
#include <sys/reboot.h>
#include <unistd.h>

int
main(void)
{
	static const char msg[] = "wakefarm-bench: /init reached\n";

	write(1, msg, sizeof(msg) - 1);
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
