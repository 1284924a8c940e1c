/*
 * void svm_vmrun(struct vp *vp, uint64_t vmcb_pa, uint64_t host_vmcb_pa)
 *
 * Enter the guest whose VMCB is at vmcb_pa and return at its next
 * #VMEXIT. The guest's general registers other than RAX and RSP (which
 * live in the VMCB) are loaded from and stored back to vp->gpr[] (x86
 * order, see vp.h). The host's FS/GS/TR/syscall state is kept in its own
 * per-CPU VMCB with VMSAVE/VMLOAD, since VMRUN does not save it.
 *
 * What this switches per VP, checked against the APM (vol. 2, 15.5.1 and
 * VMLOAD/VMSAVE): VMRUN and #VMEXIT load and store ES/CS/SS/DS, GDTR,
 * IDTR, CR0/2/3/4, EFER, RFLAGS, RIP, RSP, RAX, DR6, DR7, G_PAT and CPL
 * from the VMCB; the VMLOAD before VMRUN and the VMSAVE after it carry FS
 * and GS (selectors and hidden bases: FS.base, GS.base), TR, LDTR,
 * KERNEL_GS_BASE, STAR, LSTAR, CSTAR, SFMASK and SYSENTER_CS/ESP/EIP, and
 * the host's copies go through host_vmcb_pa the same way. So the syscall
 * MSRs never leak between partitions. Not switched here, and done in C
 * around this call (cpustate.c): x87/SSE/AVX state, XCR0, TSC_AUX,
 * SPEC_CTRL, DR0-DR3. GIF is
 * clear from here until the host state is back, so no NMI can run on a
 * half-restored host. The host runs with IF clear, so an interrupt that
 * ended the guest's run stays pending for the caller to decide about.
 */

#define GPR(n) (8 * (n))

	.text
	.globl svm_vmrun
svm_vmrun:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi                      /* vp */
	pushq %rdx                      /* host VMCB */

	clgi
	movq %rdx, %rax
	vmsave %rax
	movq %rsi, %rax                 /* guest VMCB, also RAX across VMRUN */

	movq GPR(1)(%rdi), %rcx
	movq GPR(2)(%rdi), %rdx
	movq GPR(3)(%rdi), %rbx
	movq GPR(5)(%rdi), %rbp
	movq GPR(6)(%rdi), %rsi
	movq GPR(8)(%rdi), %r8
	movq GPR(9)(%rdi), %r9
	movq GPR(10)(%rdi), %r10
	movq GPR(11)(%rdi), %r11
	movq GPR(12)(%rdi), %r12
	movq GPR(13)(%rdi), %r13
	movq GPR(14)(%rdi), %r14
	movq GPR(15)(%rdi), %r15
	movq GPR(7)(%rdi), %rdi

	vmload %rax
	/* With V_INTR_MASKING (children) the host's IF at VMRUN decides
	 * whether physical interrupts reach the CPU while the guest runs:
	 * it must be set, or a child spinning with its own IF clear could
	 * never be preempted. GIF is clear, so nothing is taken here. */
	sti
	vmrun %rax
	cli
	vmsave %rax

	pushq %rdi                      /* guest RDI */
	movq 16(%rsp), %rdi             /* vp */
	movq %rcx, GPR(1)(%rdi)
	movq %rdx, GPR(2)(%rdi)
	movq %rbx, GPR(3)(%rdi)
	movq %rbp, GPR(5)(%rdi)
	movq %rsi, GPR(6)(%rdi)
	movq %r8, GPR(8)(%rdi)
	movq %r9, GPR(9)(%rdi)
	movq %r10, GPR(10)(%rdi)
	movq %r11, GPR(11)(%rdi)
	movq %r12, GPR(12)(%rdi)
	movq %r13, GPR(13)(%rdi)
	movq %r14, GPR(14)(%rdi)
	movq %r15, GPR(15)(%rdi)
	popq %rax
	movq %rax, GPR(7)(%rdi)

	popq %rax                       /* host VMCB */
	vmload %rax
	stgi
	popq %rdi
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
