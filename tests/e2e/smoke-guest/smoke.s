# smoke.s: the smallest guest that proves the libvirt stack end to end.
#
# Booted by QEMU as a multiboot -kernel (32-bit protected mode, paging off,
# flat segments, no stack). It writes one line to COM1, one line to COM2,
# then copies the fw_cfg file "opt/wakefarm/smoke" to COM2 (proves that
# -fw_cfg reached QEMU and that QEMU, running as libvirt-qemu, could read
# the file), and leaves through isa-debug-exit. QEMU's UART accepts a byte
# at any time, so the transmitter is never polled.

	.set COM1, 0x3f8		# 16550 THR of the first serial port
	.set COM2, 0x2f8		# 16550 THR of the second serial port
	.set FW_CFG_SEL, 0x510		# fw_cfg selector register (16-bit write)
	.set FW_CFG_DATA, 0x511		# fw_cfg data register (byte reads)
	.set FW_CFG_FILE_DIR, 0x19	# selector of the file directory
	.set FW_CFG_NAME_LEN, 56	# name field of a directory entry
	.set FW_CFG_COPY_MAX, 256	# copy at most this much of the file
	.set DEBUG_EXIT, 0xf4		# isa-debug-exit iobase
	.set EXIT_VALUE, 0x31		# QEMU exits with (0x31 << 1) | 1 = 99

	.set MB_MAGIC, 0x1badb002
	.set MB_FLAGS, 0		# ELF image: no address fields needed

	# First in .text, which the linker script puts at the start of the
	# image: QEMU looks for the header in the first 8 KiB only.
	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.text
	.code32
	.globl _start
_start:
	cli
	cld				# rep insb / cmpsb count upwards
	mov $stack_top, %esp

	mov $COM1, %dx
	mov $msg_com1, %esi
	call puts

	mov $COM2, %dx
	mov $msg_com2, %esi
	call puts

	call fw_cfg_copy

	mov $DEBUG_EXIT, %dx
	mov $EXIT_VALUE, %al
	outb %al, %dx			# isa-debug-exit: QEMU exits here
1:	hlt				# not reached unless the device is missing
	jmp 1b

# puts: write the NUL-terminated string at %esi to the port in %dx.
puts:
	lodsb
	test %al, %al
	jz 1f
	outb %al, %dx			# UART transmit holding register
	jmp puts
1:	ret

# be32: %eax = next 4 fw_cfg data bytes, big-endian (the directory's order).
be32:
	push %ecx
	mov $FW_CFG_DATA, %dx
	xor %eax, %eax
	mov $4, %ecx
1:	shl $8, %eax
	inb %dx, %al			# fw_cfg data register
	loop 1b
	pop %ecx
	ret

# fw_cfg_copy: find opt/wakefarm/smoke in the fw_cfg directory, copy it to COM2.
fw_cfg_copy:
	mov $FW_CFG_SEL, %dx
	mov $FW_CFG_FILE_DIR, %ax
	outw %ax, %dx			# select the file directory
	call be32
	mov %eax, %ecx			# ecx = entries left
2:	test %ecx, %ecx
	jz 5f
	dec %ecx
	call be32
	mov %eax, %ebp			# ebp = file size
	call be32
	shr $16, %eax
	mov %eax, %ebx			# ebx = the file's selector
	push %ecx
	mov $name_buf, %edi
	mov $FW_CFG_NAME_LEN, %ecx
	mov $FW_CFG_DATA, %dx
	rep insb			# the entry's name, from the data register
	mov $name_buf, %esi
	mov $want_name, %edi
	mov $want_name_len, %ecx
	repe cmpsb
	pop %ecx
	jne 2b

	mov $FW_CFG_SEL, %dx
	mov %bx, %ax
	outw %ax, %dx			# select the file's contents
	cmp $FW_CFG_COPY_MAX, %ebp
	jbe 3f
	mov $FW_CFG_COPY_MAX, %ebp
3:	test %ebp, %ebp
	jz 4f
	mov $FW_CFG_DATA, %dx
	inb %dx, %al			# next byte of the file
	mov $COM2, %dx
	outb %al, %dx			# UART transmit holding register
	dec %ebp
	jmp 3b
4:	ret

5:	mov $COM2, %dx
	mov $msg_missing, %esi
	jmp puts

	.section .rodata
msg_com1:
	.asciz "wakefarm smoke: hello on COM1\n"
msg_com2:
	.asciz "wakefarm smoke: hello on COM2\n"
msg_missing:
	.asciz "fw_cfg opt/wakefarm/smoke: missing\n"
want_name:
	.asciz "opt/wakefarm/smoke"
	.set want_name_len, . - want_name	# with the NUL: no prefix matches

	.bss
	.align 16
name_buf:
	.skip FW_CFG_NAME_LEN
	.align 16
	.skip 1024
stack_top:
