/* Report records on COM2, human log on COM1, and TSC-based time. */
#include "report.h"

static struct report_channel *chan;
static const char *rec_src = "?";

void
serial_init(u16 port)
{
	outb(port + 1, 0x00); /* IER: no interrupts, we poll */
	outb(port + 3, 0x80); /* LCR: DLAB on to set the divisor */
	outb(port + 0, 0x01); /* DLL: 115200 baud */
	outb(port + 1, 0x00); /* DLM */
	outb(port + 3, 0x03); /* LCR: 8N1, DLAB off */
	outb(port + 2, 0x07); /* FCR: enable and clear FIFOs */
}

static void
serial_write(u16 port, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		while (!(inb(port + 5) & 0x20)) /* LSR.THRE: room to send */
			cpu_relax();
		outb(port, (u8)s[i]);
	}
}

void
report_setup(struct report_channel *ch, const char *src)
{
	chan = ch;
	rec_src = src;
}

struct report_channel *
report_channel(void)
{
	return chan;
}

u64
time_us(void)
{
	if (!chan || !chan->tsc_khz)
		return 0;
	return (rdtsc() - chan->tsc_base) * 1000 / chan->tsc_khz;
}

void
delay_us(u64 us)
{
	u64 end = rdtsc() + us * chan->tsc_khz / 1000;

	while (rdtsc() < end)
		cpu_relax();
}

void
rec_begin(struct rec *r, const char *ev)
{
	rec_start(r, rec_src, chan ? chan->gen : 0, time_us(), ev);
}

/* Closes the record and writes it under the COM2 lock. */
void
rec_end(struct rec *r)
{
	rec_close(r);
	if (chan)
		spin_lock(&chan->com2_lock);
	serial_write(COM2, r->buf, r->len);
	if (chan)
		spin_unlock(&chan->com2_lock);
}

void
klog(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "[%8lu] %s: ", time_us(), rec_src);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	line[n++] = '\n';
	if (chan)
		spin_lock(&chan->com1_lock);
	serial_write(COM1, line, n);
	if (chan)
		spin_unlock(&chan->com1_lock);
}

/*
 * Bulk output: serial_init enabled the 16-byte transmit FIFO, and THRE says
 * it is empty, so 16 bytes go per LSR poll instead of one (half the port
 * accesses, which are what a byte costs under TCG).
 */
static void
serial_write_fifo(u16 port, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		while (
		    !(inb(port + 5) & 0x20)) /* LSR.THRE: the FIFO is empty */
			cpu_relax();
		for (size_t end = i + 16 < n ? i + 16 : n; i < end; i++)
			outb(port, (u8)s[i]); /* THR: into the transmit FIFO */
	}
}

void
report_raw(u16 port, const char *s, size_t n)
{
	struct spinlock *lock = !chan ? NULL :
	    port == COM1              ? &chan->com1_lock :
	                                &chan->com2_lock;

	if (lock)
		spin_lock(lock);
	serial_write_fifo(port, s, n);
	if (lock)
		spin_unlock(lock);
}

void
report_verror(const char *fmt, va_list ap)
{
	char msg[256];
	struct rec r;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	klog("error: %s", msg);
	rec_begin(&r, "error");
	rec_str(&r, "msg", msg);
	rec_end(&r);
}

void
report_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_verror(fmt, ap);
	va_end(ap);
}
